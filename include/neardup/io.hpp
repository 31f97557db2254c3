// neardup/io.hpp — umbrella header of the neardup::io library: reading corpora
// (JSONL plain/gzip/zstd, directories), record parsing, atomic output files and
// JSON/TSV writing. Link neardup::io. See each header for details.
#pragma once

#include "neardup/io/input.hpp"
#include "neardup/io/json.hpp"
#include "neardup/io/output.hpp"
#include "neardup/io/output_run.hpp"
