// Internal to TabularScorer (tabular_scorer.cc, tabular_scorer_parquet.cc):
// how much room output rows take in the result's payload.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include "common/float_text.h"

namespace lote::native {

// The most bytes a row key takes: "@" and a 64-bit integer.
inline constexpr size_t kRowKeyChars = 21;

// The most bytes one output row takes, without passthrough columns:
// file (as a CSV field), row key, `outputs` predictions, separators and the
// line end.
inline size_t MaxRowBytes(const std::string& file_field, size_t outputs) {
  return file_field.size() + 1 + kRowKeyChars + outputs * (1 + kShortestDoubleChars) + 1;
}

// Room for `more` bytes past s's end, growing by doubling at least, so that
// an item's row groups (and a mini-batch's items) do not copy the rows
// written so far again each time.
inline void ReserveMore(std::string* s, size_t more) {
  if (s->capacity() - s->size() < more) s->reserve(std::max(s->size() + more, 2 * s->capacity()));
}

}  // namespace lote::native
