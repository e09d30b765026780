#include "cli/confirm.h"

#include <gtest/gtest.h>

#include <sstream>

namespace lote::cli {
namespace {

Status Ask(bool yes, const std::string& typed, bool interactive, std::string* shown = nullptr) {
  std::istringstream in(typed);
  std::ostringstream err;
  Status st = ConfirmDelete(yes, "Delete endpoint 'x' and its deployments?", "endpoint 'x'",
                            ConfirmIo{&in, &err, interactive});
  if (shown) *shown = err.str();
  return st;
}

TEST(ConfirmTest, YesSkipsTheQuestion) {
  std::string shown;
  EXPECT_TRUE(Ask(true, "", false, &shown));
  EXPECT_EQ(shown, "");
}

TEST(ConfirmTest, WithoutATerminalItRefusesAndSaysPassYes) {
  auto st = Ask(false, "y\n", false);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.error().message(),
            "not deleting endpoint 'x' without confirmation: stdin is not a terminal; pass --yes");
}

TEST(ConfirmTest, OnATerminalOnlyYesDeletes) {
  std::string shown;
  EXPECT_TRUE(Ask(false, "y\n", true, &shown));
  EXPECT_EQ(shown, "Delete endpoint 'x' and its deployments? [y/N] ");
  EXPECT_TRUE(Ask(false, " YES \r\n", true));
  for (const char* no : {"\n", "n\n", "no\n", "yes please\n", "", "nope"}) {
    auto st = Ask(false, no, true);
    ASSERT_FALSE(st) << no;
    EXPECT_EQ(st.error().code(), ErrorCode::kFailedPrecondition);
    EXPECT_EQ(st.error().message(), "endpoint 'x' not deleted (not confirmed)");
  }
}

}  // namespace
}  // namespace lote::cli
