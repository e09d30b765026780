#include "common/float_text.h"

#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace lote {
namespace {

std::string Ours(double v) {
  char buf[kShortestDoubleChars];
  return std::string(buf, WriteShortest(v, buf));
}

std::string Std(double v) {
  char buf[64];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// Counts mismatches and reports the first few, so a broken case does not
// print millions of lines.
struct Compare {
  int failures = 0;
  void operator()(double v) {
    char a[kShortestDoubleChars];
    char b[64];
    char* ae = WriteShortest(v, a);
    char* be = std::to_chars(b, b + sizeof b, v).ptr;
    if (ae - a == be - b && std::equal(a, ae, b)) return;
    if (++failures <= 10) {
      ADD_FAILURE() << "bits 0x" << std::hex << std::bit_cast<uint64_t>(v) << ": ours '"
                    << std::string(a, ae) << "', std::to_chars '" << std::string(b, be) << "'";
    }
  }
};

TEST(FloatTextTest, ChoosesFixedOrScientificAsToChars) {
  EXPECT_EQ(Ours(0.0), "0");
  EXPECT_EQ(Ours(-0.0), "-0");
  EXPECT_EQ(Ours(0.0001), "1e-04");
  EXPECT_EQ(Ours(0.001), "0.001");
  EXPECT_EQ(Ours(0.00012), "0.00012");
  EXPECT_EQ(Ours(100000), "1e+05");
  EXPECT_EQ(Ours(10000), "10000");
  EXPECT_EQ(Ours(123456), "123456");
  EXPECT_EQ(Ours(1500000), "1500000");
  EXPECT_EQ(Ours(15000000), "1.5e+07");
  EXPECT_EQ(Ours(1.4562283754348755), "1.4562283754348755");
  EXPECT_EQ(Ours(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(Ours(5e-324), "5e-324");
  EXPECT_EQ(Ours(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(Ours(1.2345678901234568e21), "1234567890123456774144");  // exact, as to_chars
  EXPECT_EQ(Ours(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(Ours(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(Ours(std::numeric_limits<double>::quiet_NaN()), Std(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_EQ(Ours(-std::numeric_limits<double>::quiet_NaN()), Std(-std::numeric_limits<double>::quiet_NaN()));
}

TEST(FloatTextTest, EdgeCasesMatchToChars) {
  Compare cmp;
  std::vector<double> seeds = {0.0,
                               -0.0,
                               std::numeric_limits<double>::min(),
                               std::numeric_limits<double>::max(),
                               std::numeric_limits<double>::denorm_min(),
                               std::numeric_limits<double>::epsilon(),
                               std::numeric_limits<double>::infinity(),
                               std::numeric_limits<double>::quiet_NaN(),
                               std::numeric_limits<double>::signaling_NaN(),
                               std::numeric_limits<float>::min(),
                               std::numeric_limits<float>::max(),
                               std::numeric_limits<float>::denorm_min(),
                               std::numeric_limits<float>::epsilon(),
                               9007199254740992.0,
                               9007199254740991.0,
                               1.0 / 3,
                               2.0 / 3,
                               0.1,
                               0.2,
                               0.3};
  // Powers of ten and two, integers, short decimals: every switch between
  // fixed and scientific and every exponent width.
  for (int k = -325; k <= 309; ++k) seeds.push_back(std::pow(10.0, k));
  for (int k = -1075; k <= 1024; ++k) seeds.push_back(std::ldexp(1.0, k));
  for (int i = 0; i <= 100000; ++i) {
    seeds.push_back(i);
    seeds.push_back(i / 1000.0);
  }
  for (int digits = 1; digits <= 17; ++digits) {
    double base = 1;
    for (int d = 1; d < digits; ++d) base = base * 10 + (d % 9) + 1;
    for (int k = -30; k <= 30; ++k) seeds.push_back(base * std::pow(10.0, k));
  }
  for (double s : seeds) {
    for (double v : {s, std::nextafter(s, 0.0), std::nextafter(s, HUGE_VAL)}) {
      cmp(v);
      cmp(-v);
      cmp(static_cast<double>(static_cast<float>(v)));
    }
  }
  EXPECT_EQ(cmp.failures, 0);
}

TEST(FloatTextTest, RandomDoublesMatchToChars) {
  Compare cmp;
  std::mt19937_64 rng(20261128);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int i = 0; i < 2'000'000 && cmp.failures == 0; ++i) {
    cmp(std::bit_cast<double>(rng()));  // every exponent, subnormals, nan
    cmp(unit(rng));                     // probabilities
    cmp((unit(rng) - 0.5) * 1e6);       // regression outputs
  }
  EXPECT_EQ(cmp.failures, 0);
}

TEST(FloatTextTest, RandomFloatsWidenedMatchToChars) {
  // What the scorer writes: XGBoost's float predictions widened to double.
  Compare cmp;
  std::mt19937 rng(1128);
  std::uniform_real_distribution<float> unit(0, 1);
  for (int i = 0; i < 2'000'000 && cmp.failures == 0; ++i) {
    cmp(static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(rng()))));
    cmp(static_cast<double>(unit(rng)));
    cmp(static_cast<double>((unit(rng) - 0.5f) * 100.0f));
  }
  EXPECT_EQ(cmp.failures, 0);
}

}  // namespace
}  // namespace lote
