#include "model/names.h"

#include <gtest/gtest.h>

namespace lote::model {
namespace {

TEST(NamesTest, ResourceNames) {
  for (const char* ok : {"mybatchedp", "cpu-cluster", "abc", "a1b", "autolog-deployment",
                         "A-9z"}) {
    EXPECT_TRUE(ValidateResourceName(ok, "endpoint", "name")) << ok;
  }
  for (const char* bad : {"my_ep", "ab", "1abc", "abc-", "-abc", "a b", "ep.1", ""}) {
    EXPECT_FALSE(ValidateResourceName(bad, "endpoint", "name")) << bad;
  }
  EXPECT_TRUE(ValidateResourceName(std::string(32, 'a'), "endpoint", "name"));
  EXPECT_FALSE(ValidateResourceName(std::string(33, 'a'), "endpoint", "name"));
}

TEST(NamesTest, ResourceNameMessage) {
  auto st = ValidateResourceName("my_ep", "endpoint", "name");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.error().field(), "name");
  EXPECT_EQ(st.error().message(),
            "endpoint name 'my_ep' is invalid: must start with a letter, contain only letters, "
            "digits and '-', end with a letter or digit, and be 3 to 32 characters");
  auto empty = ValidateResourceName("", "deployment", "deployments[0].name");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message(), "deployment name is empty");
}

TEST(NamesTest, AssetNamesAndVersions) {
  EXPECT_TRUE(ValidateAssetName("autolog_model", "model", "name"));
  EXPECT_TRUE(ValidateAssetName("1model.v2-x", "model", "name"));
  EXPECT_FALSE(ValidateAssetName("_model", "model", "name"));
  EXPECT_FALSE(ValidateAssetName("a/b", "model", "name"));
  EXPECT_FALSE(ValidateAssetName(std::string(256, 'a'), "model", "name"));
  EXPECT_TRUE(ValidateAssetName(std::string(255, 'a'), "model", "name"));
  auto st = ValidateAssetName("my model", "data", "name");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "data name 'my model' is invalid: must start with a letter or digit, contain only "
            "letters, digits, '-', '_' and '.', and be at most 255 characters");

  EXPECT_TRUE(ValidateVersion("1", "model", "version"));
  EXPECT_TRUE(ValidateVersion("2021-10-01.beta_1", "model", "version"));
  EXPECT_FALSE(ValidateVersion("", "model", "version"));
  EXPECT_FALSE(ValidateVersion(".1", "model", "version"));
  EXPECT_FALSE(ValidateVersion("1:2", "model", "version"));
  EXPECT_FALSE(ValidateVersion(std::string(65, '1'), "model", "version"));
}

TEST(NamesTest, DidYouMean) {
  std::vector<std::string_view> keys = {"mini_batch_size", "max_concurrency_per_instance",
                                        "retry_settings", "name"};
  EXPECT_EQ(DidYouMean("mini_batch_sise", keys), " (did you mean 'mini_batch_size'?)");
  EXPECT_EQ(DidYouMean("minibatchsize", keys), " (did you mean 'mini_batch_size'?)");
  EXPECT_EQ(DidYouMean("Retry_Settings", keys), " (did you mean 'retry_settings'?)");
  EXPECT_EQ(DidYouMean("nam", keys), " (did you mean 'name'?)");
  EXPECT_EQ(DidYouMean("colour", keys), "");
  EXPECT_EQ(DidYouMean("x", {}), "");
}

TEST(NamesTest, EditDistance) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
}

}  // namespace
}  // namespace lote::model
