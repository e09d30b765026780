// Shortest text of a double: the exact bytes std::to_chars(first, last, v)
// writes, with about a quarter less CPU (~27 ns a value against ~37 ns here).
//
// The digits are the shortest that read back as v (Dragonbox, from Debian's
// libfmt, which spdlog already links), and the form is to_chars's own
// choice: fixed or scientific, whichever is shorter, fixed on a tie
// ("1e-04", "0.001", "1e+05", "123456", "5e-324", "-0"). The cases where
// to_chars does more than place the shortest digits (nan and inf, and fixed
// integers of 2^53 and over, which it writes exactly: 1.2345678901234568e21
// is "1234567890123456774144") are handed to std::to_chars itself, so the
// output is the same byte for byte (tests/unit/float_text_test.cc compares
// them on edge cases and millions of random values).
//
// The native worker writes every prediction with it (native/tabular_scorer.cc).
#pragma once

#include <cstddef>

namespace lote {

// The room WriteShortest needs ("-2.2250738585072014e-308", the longest
// text, is 24 bytes; it may use the rest as scratch).
inline constexpr size_t kShortestDoubleChars = 32;

// Writes v's shortest text at out (not terminated) and returns its end.
// out must have room for kShortestDoubleChars bytes: the bytes between the
// returned end and out + kShortestDoubleChars may be overwritten too.
char* WriteShortest(double v, char* out);

}  // namespace lote
