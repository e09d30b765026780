#include <gtest/gtest.h>

#include "model/specs.h"
#include "model_test_util.h"

namespace lote::model {
namespace {

using nlohmann::json;
using testing::Contains;
using testing::ErrorOf;

TEST(ModelValuesTest, ParseByteSize) {
  EXPECT_EQ(*ParseByteSize("100"), 100u);
  EXPECT_EQ(*ParseByteSize("100B"), 100u);
  EXPECT_EQ(*ParseByteSize("512KB"), 512u * 1024);
  EXPECT_EQ(*ParseByteSize("64MB"), 64u << 20);
  EXPECT_EQ(*ParseByteSize("64 mb"), 64u << 20);
  EXPECT_EQ(*ParseByteSize("1GB"), 1u << 30);
  EXPECT_EQ(*ParseByteSize("2TB"), 2ull << 40);
  EXPECT_EQ(*ParseByteSize("0"), 0u);
  Error bad = ErrorOf(ParseByteSize("64XB"));
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.message(),
            "size '64XB' is invalid: expected a whole number with an optional unit B, KB, MB, GB "
            "or TB (such as '64MB')");
  EXPECT_FALSE(ParseByteSize(""));
  EXPECT_FALSE(ParseByteSize("-1MB"));
  EXPECT_FALSE(ParseByteSize("1.5MB"));
  EXPECT_FALSE(ParseByteSize("MB"));
  EXPECT_FALSE(ParseByteSize("99999999999TB"));  // overflows
}

TEST(ModelValuesTest, ParseTimeoutSeconds) {
  EXPECT_EQ(*ParseTimeoutSeconds(json(30), "t"), 30);
  EXPECT_EQ(*ParseTimeoutSeconds(json("30"), "t"), 30);
  EXPECT_EQ(*ParseTimeoutSeconds(json("30s"), "t"), 30);
  EXPECT_EQ(*ParseTimeoutSeconds(json("2m"), "t"), 120);
  EXPECT_EQ(*ParseTimeoutSeconds(json("PT30S"), "t"), 30);
  EXPECT_EQ(*ParseTimeoutSeconds(json("PT1M30S"), "t"), 90);
  EXPECT_EQ(*ParseTimeoutSeconds(json("PT1H"), "t"), 3600);
  EXPECT_EQ(*ParseTimeoutSeconds(json("P1DT1S"), "t"), 86401);

  Error zero = ErrorOf(ParseTimeoutSeconds(json(0), "retry_settings.timeout"));
  EXPECT_EQ(zero.message(), "retry_settings.timeout must be > 0 seconds, got 0");
  EXPECT_EQ(zero.field(), "retry_settings.timeout");
  EXPECT_FALSE(ParseTimeoutSeconds(json(-5), "t"));
  EXPECT_FALSE(ParseTimeoutSeconds(json("PT0S"), "t"));
  EXPECT_FALSE(ParseTimeoutSeconds(json("-3s"), "t"));
  EXPECT_FALSE(ParseTimeoutSeconds(json("PT"), "t"));
  EXPECT_FALSE(ParseTimeoutSeconds(json("PT1.5S"), "t"));
  EXPECT_FALSE(ParseTimeoutSeconds(json("P1M"), "t"));  // months are ambiguous
  EXPECT_FALSE(ParseTimeoutSeconds(json("soon"), "t"));
  EXPECT_FALSE(ParseTimeoutSeconds(json(true), "t"));
  EXPECT_FALSE(ParseTimeoutSeconds(json(1.5), "t"));
  EXPECT_FALSE(ParseTimeoutSeconds(json(100000000), "t"));  // over 30 days
}

TEST(ModelValuesTest, ParseModelRef) {
  EXPECT_EQ(*ParseModelRef("azureml:autolog:1"), (ModelRef{"autolog", "1"}));
  EXPECT_EQ(*ParseModelRef("autolog:1"), (ModelRef{"autolog", "1"}));
  EXPECT_EQ(*ParseModelRef("azureml:autolog@latest"), (ModelRef{"autolog", ""}));
  EXPECT_EQ(*ParseModelRef("autolog_model@latest"), (ModelRef{"autolog_model", ""}));
  EXPECT_EQ(*ParseModelRef("azureml:/subscriptions/s/resourceGroups/g/providers/"
                           "Microsoft.MachineLearningServices/workspaces/w/models/mnist/versions/3"),
            (ModelRef{"mnist", "3"}));
  EXPECT_EQ((ModelRef{"autolog", "1"}).ToString(), "azureml:autolog:1");
  EXPECT_EQ((ModelRef{"autolog", ""}).ToString(), "azureml:autolog@latest");

  Error bare = ErrorOf(ParseModelRef("autolog"));
  EXPECT_EQ(bare.message(),
            "model reference 'autolog' needs a version: use 'azureml:autolog:<version>' or "
            "'azureml:autolog@latest'");
  EXPECT_FALSE(ParseModelRef("autolog:"));
  EXPECT_FALSE(ParseModelRef("autolog@v2"));
  EXPECT_FALSE(ParseModelRef("auto log:1"));
  EXPECT_FALSE(ParseModelRef("autolog:1:2"));
  EXPECT_FALSE(ParseModelRef("azureml://registries/r/models/m/versions/1"));
}

TEST(ModelValuesTest, ParseComputeRef) {
  EXPECT_EQ(*ParseComputeRef("azureml:cpu-cluster"), "cpu-cluster");
  EXPECT_EQ(*ParseComputeRef("cpu-cluster"), "cpu-cluster");
  EXPECT_EQ(*ParseComputeRef("azureml:/subscriptions/s/resourceGroups/g/providers/"
                             "Microsoft.MachineLearningServices/workspaces/w/computes/cpu-cluster"),
            "cpu-cluster");
  Error bad = ErrorOf(ParseComputeRef("azureml:cpu_cluster"));
  EXPECT_TRUE(bad.message().starts_with("compute reference 'azureml:cpu_cluster': compute name"))
      << bad.message();
  EXPECT_FALSE(ParseComputeRef(""));
  EXPECT_FALSE(ParseComputeRef("azureml:"));
}

TEST(ModelValuesTest, ParseTrafficArg) {
  EXPECT_EQ(*ParseTrafficArg("mnist-deployment:100"), json({{"mnist-deployment", 100}}));
  EXPECT_EQ(*ParseTrafficArg("blue=100"), json({{"blue", 100}}));
  EXPECT_EQ(*ParseTrafficArg("blue:100, green:0"), json({{"blue", 100}, {"green", 0}}));
  Error fifty = ErrorOf(ParseTrafficArg("blue:50"));
  EXPECT_EQ(fifty.message(),
            "--traffic 'blue:50' is invalid: the value for 'blue' is '50'; batch endpoints "
            "accept only 0 or 100 (expected name:100 or name:100,other:0)");
  EXPECT_FALSE(ParseTrafficArg(""));
  EXPECT_FALSE(ParseTrafficArg("blue"));
  EXPECT_FALSE(ParseTrafficArg("blue:100,"));
  EXPECT_FALSE(ParseTrafficArg("blue:100,blue:0"));
  EXPECT_FALSE(ParseTrafficArg("b_1:100"));
  EXPECT_FALSE(ParseTrafficArg("blue:abc"));
}

TEST(ModelValuesTest, ValidateTraffic) {
  std::vector<std::string> names = {"blue", "green"};
  EXPECT_TRUE(ValidateTraffic(json({{"blue", 100}, {"green", 0}}), names));
  EXPECT_TRUE(ValidateTraffic(json::object(), names));
  EXPECT_TRUE(ValidateTraffic(nullptr, names));
  EXPECT_TRUE(ValidateTraffic(json({{"green", "100"}}), names));

  Error fifty = ErrorOf(ValidateTraffic(json({{"blue", 50}}), names));
  EXPECT_EQ(fifty.field(), "traffic.blue");
  Error two = ErrorOf(ValidateTraffic(json({{"blue", 100}, {"green", 100}}), names));
  EXPECT_EQ(two.field(), "traffic.green");
  Error unknown = ErrorOf(ValidateTraffic(json({{"red", 0}}), names, "patch.traffic"));
  EXPECT_EQ(unknown.field(), "patch.traffic.red");
  EXPECT_EQ(unknown.message(),
            "traffic names deployment 'red', which this endpoint does not have (deployments: "
            "blue, green)");
  Error none = ErrorOf(ValidateTraffic(json({{"red", 100}}), {}));
  EXPECT_TRUE(Contains(none.message(), "(it has no deployments)"));
  EXPECT_FALSE(ValidateTraffic(json({{"blue", true}}), names));
  EXPECT_FALSE(ValidateTraffic(json::array(), names));
}

}  // namespace
}  // namespace lote::model
