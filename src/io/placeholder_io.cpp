// Removed once src/io has real sources; a static library needs one.
namespace neardup::detail { int io_placeholder = 0; }
