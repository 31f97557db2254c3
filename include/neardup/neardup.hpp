// neardup/neardup.hpp — umbrella header: includes the whole public API.
#pragma once

#include "neardup/enum_names.hpp"
#include "neardup/hash.hpp"
#include "neardup/types.hpp"
#include "neardup/version.hpp"
#include "neardup/signature.hpp"
#include "neardup/banding.hpp"
#include "neardup/candidates.hpp"
#include "neardup/cluster.hpp"
#include "neardup/index.hpp"
#include "neardup/utf8.hpp"
#include "neardup/tokenize.hpp"
#include "neardup/shingle.hpp"
#include "neardup/fingerprint.hpp"
#include "neardup/allpairs.hpp"
#include "neardup/lines.hpp"
#include "neardup/contamination.hpp"
