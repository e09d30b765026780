#include <gtest/gtest.h>

#include "model/specs.h"

namespace lote::model {
namespace {

using nlohmann::json;

json Dep(json cc) {
  return {{"name", "dep1"}, {"model", "azureml:m:1"}, {"compute", {{"target", "azureml:cpu"}}},
          {"code_configuration", cc}};
}

TEST(CodeConfigurationTest, AcceptsAScriptOrANativeLibrary) {
  auto script = NormalizeDeployment(Dep({{"code", {{"local_path", "./code"}}}, {"scoring_script", "score.py"}}));
  ASSERT_TRUE(script) << script.error().message();
  EXPECT_EQ((*script)["code_configuration"]["scoring_script"], "score.py");
  EXPECT_FALSE((*script)["code_configuration"].contains("native_library"));
  auto lib = NormalizeDeployment(Dep({{"code", "./code"}, {"native_library", "libmyscorer.so"}}));
  ASSERT_TRUE(lib) << lib.error().message();
  EXPECT_EQ((*lib)["code_configuration"]["native_library"], "libmyscorer.so");
}

TEST(CodeConfigurationTest, RefusesBothOrNeither) {
  auto both = NormalizeDeployment(
      Dep({{"code", "./code"}, {"scoring_script", "s.py"}, {"native_library", "l.so"}}));
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message().find("exactly one of scoring_script"), std::string::npos);
  auto neither = NormalizeDeployment(Dep({{"code", "./code"}}));
  ASSERT_FALSE(neither);
  EXPECT_EQ(neither.error().field(), "code_configuration.scoring_script");
  auto escape = NormalizeDeployment(Dep({{"code", "./code"}, {"native_library", "../l.so"}}));
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().field(), "code_configuration.native_library");
}

}  // namespace
}  // namespace lote::model
