#include "common/status.h"

#include <gtest/gtest.h>

namespace lote {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd: " + std::to_string(x), "x");
  return x / 2;
}

Result<int> Quarter(int x) {
  LOTE_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, PropagatesErrorWithField) {
  auto r = Quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "odd: 3");
  EXPECT_EQ(r.error().field(), "x");
  EXPECT_EQ(*Quarter(8), 2);
}

TEST(StatusTest, ContextAndFieldNesting) {
  Error e = InvalidArgument("must be positive", "timeout");
  Error up = e.UnderField("retry_settings").UnderField("deployments[0]").WithContext("deployment 'blue'");
  EXPECT_EQ(up.field(), "deployments[0].retry_settings.timeout");
  EXPECT_EQ(up.message(), "deployment 'blue': must be positive");
  EXPECT_EQ(ErrorCodeName(up.code()), "InvalidArgument");
}

}  // namespace
}  // namespace lote
