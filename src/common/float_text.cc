#include "common/float_text.h"

#include <fmt/format.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace lote {

namespace {

// "00" "01" … "99": two digits per division.
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

constexpr uint64_t kPow10[] = {1ULL,
                               10ULL,
                               100ULL,
                               1000ULL,
                               10000ULL,
                               100000ULL,
                               1000000ULL,
                               10000000ULL,
                               100000000ULL,
                               1000000000ULL,
                               10000000000ULL,
                               100000000000ULL,
                               1000000000000ULL,
                               10000000000000ULL,
                               100000000000000ULL,
                               1000000000000000ULL,
                               10000000000000000ULL,
                               100000000000000000ULL,
                               1000000000000000000ULL,
                               10000000000000000000ULL};

// The decimal digits of v > 0: log10(2) ≈ 1233/4096 estimates it from the
// bit width, one comparison corrects it.
int DigitCount(uint64_t v) {
  const int guess = (std::bit_width(v) * 1233) >> 12;
  return guess + (v >= kPow10[guess] ? 1 : 0);
}

void WritePair(uint32_t v, char* at) { std::memcpy(at, kDigitPairs + static_cast<size_t>(v) * 2, 2); }

// Writes the decimal digits of v ending at end (right to left): eight digits
// at a time in 32-bit arithmetic, which is cheaper than 64-bit division.
void WriteDigits(uint64_t v, char* end) {
  while (v >= 100000000) {
    auto low = static_cast<uint32_t>(v % 100000000);
    v /= 100000000;
    const uint32_t hi4 = low / 10000;
    const uint32_t lo4 = low % 10000;
    WritePair(lo4 % 100, end - 2);
    WritePair(lo4 / 100, end - 4);
    WritePair(hi4 % 100, end - 6);
    WritePair(hi4 / 100, end - 8);
    end -= 8;
  }
  auto w = static_cast<uint32_t>(v);
  while (w >= 100) {
    end -= 2;
    WritePair(w % 100, end);
    w /= 100;
  }
  if (w >= 10) {
    WritePair(w, end - 2);
  } else {
    *--end = static_cast<char>('0' + w);
  }
}

char* Fallback(double v, char* out) {
  return std::to_chars(out, out + kShortestDoubleChars, v).ptr;
}

}  // namespace

char* WriteShortest(double v, char* out) {
  if (!std::isfinite(v)) return Fallback(v, out);
  // Integers of 2^53 and over that to_chars writes in fixed form, exactly.
  if (std::fabs(v) >= 9007199254740992.0 && std::fabs(v) < 1e23) return Fallback(v, out);
  if (std::signbit(v)) *out++ = '-';
  if (v == 0) {
    *out++ = '0';
    return out;
  }
  const auto dec = fmt::detail::dragonbox::to_decimal(std::fabs(v));
  const uint64_t digits = dec.significand;  // value = digits × 10^e, no trailing zeros
  const int e = dec.exponent;
  const int n = DigitCount(digits);
  // to_chars's choice (from MSVC's Ryu): fixed when it is no longer than
  // scientific. One digit: 0.001 .. 10000; more: e from -(n + 3) up to 5.
  const bool fixed = n == 1 ? (e >= -3 && e <= 4) : (e >= -(n + 3) && e <= 5);
  if (fixed) {
    if (e >= 0) {
      // An integer below 2^53 (larger ones went to to_chars): its exact
      // digits are the shortest digits and zeros.
      WriteDigits(digits, out + n);
      // e <= 5: a fixed-size copy of zeros, not a call to memset.
      std::memcpy(out + n, "00000000", 8);
      return out + n + e;
    }
    const int whole = n + e;  // digits before the point
    if (whole > 0) {
      // 12.345: the digits, then the point moved into place.
      WriteDigits(digits, out + n + 1);
      if (whole == 1) {  // 1.4562283754348755: the common case, without a call
        out[0] = out[1];
      } else {
        std::memmove(out, out + 1, static_cast<size_t>(whole));
      }
      out[whole] = '.';
      return out + n + 1;
    }
    // 0.00123
    out[0] = '0';
    out[1] = '.';
    // -whole <= 3 (fixed only down to e = -(n + 3)): a fixed-size copy.
    std::memcpy(out + 2, "0000", 4);
    char* end = out + 2 - whole + n;
    WriteDigits(digits, end);
    return end;
  }
  // Scientific: d[.ddd]e±XX (at least two exponent digits).
  WriteDigits(digits, out + n + 1);
  out[0] = out[1];
  char* p = out + 1;
  if (n > 1) {
    *p = '.';
    p += n;
  }
  int x = e + n - 1;
  *p++ = 'e';
  *p++ = x < 0 ? '-' : '+';
  if (x < 0) x = -x;
  if (x >= 100) {
    *p++ = static_cast<char>('0' + x / 100);
    x %= 100;
  }
  std::memcpy(p, kDigitPairs + static_cast<size_t>(x) * 2, 2);
  return p + 2;
}

}  // namespace lote
