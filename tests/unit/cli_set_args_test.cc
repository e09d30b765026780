#include "cli/set_args.h"

#include <gtest/gtest.h>

namespace lote::cli {
namespace {

using nlohmann::json;

TEST(SetArgsTest, ValuesKeepTheirScalarType) {
  EXPECT_EQ(SetValue("5"), json(5));
  EXPECT_EQ(SetValue("2.5"), json(2.5));
  EXPECT_EQ(SetValue("true"), json(true));
  EXPECT_EQ(SetValue("blue"), json("blue"));
  EXPECT_EQ(SetValue("null"), json("null"));
  EXPECT_EQ(SetValue("[1]"), json("[1]"));
  EXPECT_EQ(SetValue(""), json(""));
}

TEST(SetArgsTest, PathsAreDottedNames) {
  auto ok = ParseSetArgs({"defaults.deployment_name=blue", "settings.mini_batch_size=5", "a=b=c"});
  ASSERT_TRUE(ok) << ok.error().message();
  ASSERT_EQ(ok->size(), 3u);
  EXPECT_EQ((*ok)[0].path, "defaults.deployment_name");
  EXPECT_EQ((*ok)[1].value, json(5));
  EXPECT_EQ((*ok)[2].path, "a");
  EXPECT_EQ((*ok)[2].value, json("b=c"));
  std::string deep;
  for (int i = 0; i < 20; ++i) deep += "a.";
  auto too_deep = ParseSetArgs({deep + "b=1"});
  ASSERT_FALSE(too_deep);
  EXPECT_NE(too_deep.error().message().find("deeper than 16"), std::string::npos);
  for (const char* bad : {"novalue", "=x", ".a=1", "a.=1", "a..b=1"}) {
    auto r = ParseSetArgs({bad});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().field(), "--set");
    EXPECT_NE(r.error().message().find(bad), std::string::npos) << r.error().message();
  }
}

TEST(SetArgsTest, ApplyCreatesMappingsButNeverOverwritesAScalarParent) {
  json doc = {{"name", "ep"}, {"settings", {{"mini_batch_size", 2}}}};
  ASSERT_TRUE(ApplySetArg(doc, {"settings.mini_batch_size", 5}));
  ASSERT_TRUE(ApplySetArg(doc, {"settings.retry_settings.max_retries", 1}));
  ASSERT_TRUE(ApplySetArg(doc, {"defaults.deployment_name", "blue"}));
  EXPECT_EQ(doc["settings"]["mini_batch_size"], 5);
  EXPECT_EQ(doc["settings"]["retry_settings"]["max_retries"], 1);
  EXPECT_EQ(doc["defaults"]["deployment_name"], "blue");
  auto st = ApplySetArg(doc, {"name.first", "x"});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("'name' is not a mapping"), std::string::npos) << st.error().message();
  EXPECT_EQ(doc["name"], "ep");
}

}  // namespace
}  // namespace lote::cli
