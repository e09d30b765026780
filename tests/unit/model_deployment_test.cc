#include <gtest/gtest.h>

#include "model/specs.h"
#include "model_test_util.h"

namespace lote::model {
namespace {

using nlohmann::json;
using testing::Contains;
using testing::ErrorOf;
using testing::Yaml;

// The seed's add-deployment.yml, unchanged.
constexpr std::string_view kAddDeployment = R"(
$schema: https://azuremlschemas.azureedge.net/latest/batchEndpoint.schema.json
model:
  name: mnist
  version: 1
  local_path: ./mnist/model/
code_configuration:
  code:
    local_path: ./mnist/code/
  scoring_script: digit_identification.py
environment:
  name: mnist-env
  version: 1
  path: .
  conda_file: file:./mnist/environment/conda.yml
  docker:
    image: mcr.microsoft.com/azureml/intelmpi2018.3-ubuntu16.04:20210301.v1
mini_batch_size: 5
output_file_name: predictions.csv
retry_settings:
  max_retries: 3
  timeout: 30
error_threshold: 10
logging_level: info
compute:
  target: azureml:cpu-cluster
  instance_count: 1
environment_variables:
  AZUREML_BE: my-env-var
)";

json Minimal() {
  return json{{"name", "blue"},
              {"model", "azureml:autolog:1"},
              {"compute", {{"target", "azureml:cpu-cluster"}}}};
}

// Normalizes Minimal() with `key` set to `value`.
Result<json> With(const std::string& key, json value) {
  json d = Minimal();
  d[key] = std::move(value);
  return NormalizeDeployment(d);
}

TEST(ModelDeploymentTest, SeedAddDeployment) {
  json in = Yaml(kAddDeployment);
  in["name"] = "mnist-deployment";  // the CLI's --deployment-name
  auto d = NormalizeDeployment(in);
  ASSERT_TRUE(d) << d.error().message() << " at " << d.error().field();
  json expected = json::parse(R"({
    "name": "mnist-deployment", "description": "",
    "model": {"name": "mnist", "version": "1", "local_path": "./mnist/model/"},
    "code_configuration": {"code": {"local_path": "./mnist/code/"},
                           "scoring_script": "digit_identification.py"},
    "environment": {"name": "mnist-env", "version": "1", "path": ".",
                    "conda_file": "file:./mnist/environment/conda.yml",
                    "docker": {"image": "mcr.microsoft.com/azureml/intelmpi2018.3-ubuntu16.04:20210301.v1"}},
    "compute": {"target": "azureml:cpu-cluster", "instance_count": 1},
    "mini_batch_size": 5, "max_concurrency_per_instance": 1,
    "output_action": "append_row", "output_file_name": "predictions.csv", "output_layout": "lote",
    "retry_settings": {"max_retries": 3, "timeout": 30},
    "error_threshold": 10, "logging_level": "info",
    "environment_variables": {"AZUREML_BE": "my-env-var"}})");
  EXPECT_EQ(*d, expected) << d->dump(2);
}

TEST(ModelDeploymentTest, AppliesEveryDefault) {
  auto d = NormalizeDeployment(json{{"name", "blue"}, {"model", "autolog:1"},
                                    {"compute", {{"target", "cpu-cluster"}}}});
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(*d, json::parse(R"({
    "name": "blue", "description": "", "model": "azureml:autolog:1",
    "code_configuration": null, "environment": null,
    "compute": {"target": "azureml:cpu-cluster", "instance_count": 1},
    "mini_batch_size": 10, "max_concurrency_per_instance": 1,
    "output_action": "append_row", "output_file_name": "predictions.csv", "output_layout": "lote",
    "retry_settings": {"max_retries": 3, "timeout": 30},
    "error_threshold": -1, "logging_level": "info", "environment_variables": {}})"));
}

TEST(ModelDeploymentTest, CanonicalFormIsAFixedPoint) {
  json in = Yaml(kAddDeployment);
  in["name"] = "mnist-deployment";
  auto once = NormalizeDeployment(in);
  ASSERT_TRUE(once);
  json stored = *once;
  stored["created_at"] = "2026-11-25T12:00:00Z";
  auto twice = NormalizeDeployment(stored);
  ASSERT_TRUE(twice) << twice.error().message();
  EXPECT_EQ(*twice, *once);
}

TEST(ModelDeploymentTest, UnknownKeySuggestsTheClosest) {
  Error e = ErrorOf(With("mini_batch_sise", 5));
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.message(), "unknown key 'mini_batch_sise' in deployment (did you mean 'mini_batch_size'?)");
  EXPECT_EQ(e.field(), "mini_batch_sise");

  json d = Minimal();
  d["retry_settings"] = {{"max_retry", 2}};
  Error nested = ErrorOf(NormalizeDeployment(d, "deployments[0]"));
  EXPECT_EQ(nested.message(),
            "unknown key 'max_retry' in retry_settings (did you mean 'max_retries'?)");
  EXPECT_EQ(nested.field(), "deployments[0].retry_settings.max_retry");

  Error far = ErrorOf(With("colour", "red"));
  EXPECT_TRUE(Contains(far.message(), "expected one of: $schema, name,")) << far.message();
}

TEST(ModelDeploymentTest, MiniBatchSize) {
  Error zero = ErrorOf(With("mini_batch_size", 0));
  EXPECT_EQ(zero.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(zero.field(), "mini_batch_size");
  EXPECT_EQ(zero.message(),
            "mini_batch_size must be a positive number of files or a size such as '64MB', got 0");
  Error neg = ErrorOf(With("mini_batch_size", -1));
  EXPECT_EQ(neg.message(),
            "mini_batch_size must be a positive number of files or a size such as '64MB', got -1");
  Error unit = ErrorOf(With("mini_batch_size", "64XB"));
  EXPECT_EQ(unit.message(),
            "mini_batch_size must be a positive number of files or a size such as '64MB', got "
            "'64XB'");
  EXPECT_EQ(unit.field(), "mini_batch_size");
  EXPECT_FALSE(With("mini_batch_size", "0MB"));
  EXPECT_FALSE(With("mini_batch_size", 2.5));
  EXPECT_FALSE(With("mini_batch_size", true));

  EXPECT_EQ((*With("mini_batch_size", "64mb"))["mini_batch_size"], json("64MB"));
  EXPECT_EQ((*With("mini_batch_size", "512 KB"))["mini_batch_size"], json("512KB"));
  EXPECT_EQ((*With("mini_batch_size", "1GB"))["mini_batch_size"], json("1GB"));
  EXPECT_EQ((*With("mini_batch_size", "20"))["mini_batch_size"], json(20));
  EXPECT_EQ((*With("mini_batch_size", 3.0))["mini_batch_size"], json(3));
}

TEST(ModelDeploymentTest, RetryTimeout) {
  json d = Minimal();
  d["retry_settings"] = {{"timeout", 0}};
  Error zero = ErrorOf(NormalizeDeployment(d, "deployments.blue"));
  EXPECT_EQ(zero.field(), "deployments.blue.retry_settings.timeout");
  EXPECT_EQ(zero.message(), "retry_settings.timeout must be > 0 seconds, got 0");

  d["retry_settings"] = {{"timeout", "PT30S"}, {"max_retries", 0}};
  auto iso = NormalizeDeployment(d);
  ASSERT_TRUE(iso) << iso.error().message();
  EXPECT_EQ((*iso)["retry_settings"], json({{"max_retries", 0}, {"timeout", 30}}));

  d["retry_settings"] = {{"timeout", "PT1M30S"}};
  EXPECT_EQ((*NormalizeDeployment(d))["retry_settings"]["timeout"], json(90));
  d["retry_settings"] = {{"timeout", "45s"}};
  EXPECT_EQ((*NormalizeDeployment(d))["retry_settings"]["timeout"], json(45));

  d["retry_settings"] = {{"max_retries", -1}};
  Error retries = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(retries.message(), "retry_settings.max_retries must be >= 0, got -1");
  EXPECT_EQ(retries.field(), "retry_settings.max_retries");
}

TEST(ModelDeploymentTest, CountsAndThresholds) {
  Error conc = ErrorOf(With("max_concurrency_per_instance", 0));
  EXPECT_EQ(conc.message(), "max_concurrency_per_instance must be >= 1, got 0");
  EXPECT_EQ(conc.field(), "max_concurrency_per_instance");
  Error thr = ErrorOf(With("error_threshold", -2));
  EXPECT_EQ(thr.message(), "error_threshold must be >= -1, got -2");
  Error type = ErrorOf(With("error_threshold", "many"));
  EXPECT_EQ(type.message(), "error_threshold must be an integer, got 'many'");
  EXPECT_EQ((*With("error_threshold", "5"))["error_threshold"], json(5));

  json d = Minimal();
  d["compute"]["instance_count"] = 0;
  Error count = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(count.message(), "compute.instance_count must be >= 1, got 0");
  EXPECT_EQ(count.field(), "compute.instance_count");
}

TEST(ModelDeploymentTest, ComputeForms) {
  json d = Minimal();
  d.erase("compute");
  Error missing = ErrorOf(NormalizeDeployment(d, "deployments[1]"));
  EXPECT_EQ(missing.message(), "compute.target is required");
  EXPECT_EQ(missing.field(), "deployments[1].compute.target");

  d["compute"] = "azureml:gpu-cluster";  // GA form
  d["resources"] = {{"instance_count", 3}};
  auto ga = NormalizeDeployment(d);
  ASSERT_TRUE(ga) << ga.error().message();
  EXPECT_EQ((*ga)["compute"], json({{"target", "azureml:gpu-cluster"}, {"instance_count", 3}}));

  d["compute"] = {{"target", "azureml:cpu-cluster"}, {"instance_count", 2}};
  Error clash = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(clash.field(), "resources.instance_count");

  d.erase("resources");
  d["compute"]["target"] = "azureml:cpu_cluster";
  Error bad = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(bad.field(), "compute.target");
  EXPECT_TRUE(Contains(bad.message(), "compute name 'cpu_cluster' is invalid")) << bad.message();
}

TEST(ModelDeploymentTest, ModelForms) {
  EXPECT_EQ((*With("model", "azureml:autolog@latest"))["model"], json("azureml:autolog@latest"));
  Error missing = ErrorOf(NormalizeDeployment(json{{"name", "blue"},
                                                   {"compute", {{"target", "c-1"}}}}));
  EXPECT_EQ(missing.message(), "model is required");
  EXPECT_EQ(missing.field(), "model");

  Error bare = ErrorOf(With("model", "autolog"));
  EXPECT_EQ(bare.field(), "model");
  EXPECT_TRUE(Contains(bare.message(), "needs a version")) << bare.message();

  Error both = ErrorOf(With("model", json{{"name", "m"}, {"local_path", "a"}, {"path", "b"}}));
  EXPECT_EQ(both.field(), "model");
  Error key = ErrorOf(With("model", json{{"name", "m"}, {"local_pth", "a"}}));
  EXPECT_EQ(key.message(), "unknown key 'local_pth' in model (did you mean 'local_path'?)");
  EXPECT_EQ(key.field(), "model.local_pth");
  Error name = ErrorOf(With("model", json{{"name", "m m"}, {"local_path", "a"}}));
  EXPECT_EQ(name.field(), "model.name");
}

TEST(ModelDeploymentTest, EnumsAreCaseInsensitive) {
  EXPECT_EQ((*With("output_action", "Summary_Only"))["output_action"], json("summary_only"));
  EXPECT_EQ((*With("output_action", "AppendRow"))["output_action"], json("append_row"));
  EXPECT_EQ((*With("logging_level", "DEBUG"))["logging_level"], json("debug"));
  Error action = ErrorOf(With("output_action", "append"));
  EXPECT_EQ(action.message(), "output_action must be append_row or summary_only, got 'append'");
  Error level = ErrorOf(With("logging_level", "trace"));
  EXPECT_EQ(level.field(), "logging_level");
  Error type = ErrorOf(With("type", "online"));
  EXPECT_EQ(type.message(),
            "deployment type 'online' is not supported: lote serves batch model deployments (type: model)");
  EXPECT_TRUE(With("type", "batch"));
}

TEST(ModelDeploymentTest, OutputFileName) {
  EXPECT_FALSE(With("output_file_name", ""));
  EXPECT_FALSE(With("output_file_name", "../x.csv"));
  EXPECT_FALSE(With("output_file_name", "a/b.csv"));
  Error dots = ErrorOf(With("output_file_name", ".."));
  EXPECT_EQ(dots.field(), "output_file_name");
  EXPECT_EQ((*With("output_file_name", "out.jsonl"))["output_file_name"], json("out.jsonl"));
}

TEST(ModelDeploymentTest, EnvironmentVariablesBecomeStrings) {
  auto d = With("environment_variables",
                json{{"A", 1}, {"B", true}, {"C", nullptr}, {"D", 1.5}, {"E", "x"}});
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ((*d)["environment_variables"],
            json({{"A", "1"}, {"B", "true"}, {"C", ""}, {"D", "1.5"}, {"E", "x"}}));
  Error nested = ErrorOf(With("environment_variables", json{{"A", json::array()}}));
  EXPECT_EQ(nested.field(), "environment_variables.A");
  Error name = ErrorOf(With("environment_variables", json{{"A-B", "x"}}));
  EXPECT_EQ(name.field(), "environment_variables.A-B");
}

TEST(ModelDeploymentTest, CodeConfiguration) {
  auto s = With("code_configuration", json{{"code", "./src"}, {"scoring_script", "score.py"}});
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)["code_configuration"], json({{"code", "./src"}, {"scoring_script", "score.py"}}));
  auto up = With("code_configuration",
                 json{{"code", {{"upload_id", "u1"}}}, {"scoring_script", "score.py"}});
  ASSERT_TRUE(up);
  Error script = ErrorOf(With("code_configuration", json{{"code", "./src"}}));
  EXPECT_EQ(script.message(), "code_configuration needs exactly one of scoring_script (a Python script) or native_library (a plugin .so)");
  EXPECT_EQ(script.field(), "code_configuration.scoring_script");
  EXPECT_FALSE(With("code_configuration",
                    json{{"code", "./src"}, {"scoring_script", "../score.py"}}));
}

TEST(ModelDeploymentTest, EnvironmentForms) {
  EXPECT_EQ((*With("environment", "azureml:AzureML-Minimal:1"))["environment"],
            json("azureml:AzureML-Minimal:1"));
  Error docker = ErrorOf(With("environment", json{{"docker", {{"imag", "x"}}}}));
  EXPECT_EQ(docker.field(), "environment.docker.imag");
  auto py = With("environment", json{{"python", "/usr/bin/python3.11"}});
  ASSERT_TRUE(py);
  EXPECT_EQ((*py)["environment"], json({{"python", "/usr/bin/python3.11"}}));
}

TEST(ModelDeploymentTest, OutputLayout) {
  EXPECT_EQ((*With("output_layout", "Azure"))["output_layout"], "azure");
  EXPECT_EQ((*With("output_layout", "lote"))["output_layout"], "lote");
  Error bad = ErrorOf(With("output_layout", "parquet"));
  EXPECT_EQ(bad.field(), "output_layout");
  EXPECT_EQ(bad.message(), "output_layout must be lote or azure, got 'parquet'");
  // In the GA settings: block too, once.
  auto in_settings = With("settings", json{{"output_layout", "azure"}});
  ASSERT_TRUE(in_settings) << in_settings.error().message();
  EXPECT_EQ((*in_settings)["output_layout"], "azure");
  json twice = Minimal();
  twice["output_layout"] = "azure";
  twice["settings"] = json{{"output_layout", "lote"}};
  EXPECT_EQ(ErrorOf(NormalizeDeployment(twice)).field(), "settings.output_layout");
}

TEST(ModelDeploymentTest, OutputFormat) {
  EXPECT_EQ((*With("output_format", "Parquet"))["output_format"], "parquet");
  EXPECT_EQ((*With("output_format", "jsonl"))["output_format"], "jsonl");
  EXPECT_FALSE(With("output_format", "csv")->contains("output_format"));  // the default is not shown
  Error bad = ErrorOf(With("output_format", "xlsx"));
  EXPECT_EQ(bad.field(), "output_format");
  EXPECT_EQ(bad.message(), "output_format must be csv, parquet or jsonl, got 'xlsx'");
  auto in_settings = With("settings", json{{"output_format", "parquet"}});
  ASSERT_TRUE(in_settings) << in_settings.error().message();
  EXPECT_EQ((*in_settings)["output_format"], "parquet");
  // A scoring script's rows are its own: refused.
  json script = Minimal();
  script["code_configuration"] = json{{"code", "./src"}, {"scoring_script", "score.py"}};
  script["settings"] = json{{"output_format", "parquet"}};
  Error refused = ErrorOf(NormalizeDeployment(script));
  EXPECT_EQ(refused.field(), "settings.output_format");
  EXPECT_TRUE(refused.message().starts_with("output_format parquet is for no-code deployments")) << refused.message();
  script["settings"] = json{{"output_format", "csv"}};
  EXPECT_TRUE(NormalizeDeployment(script));
}

// An inline GA environment records image and conda_file and names no
// interpreter: the server's (LOTE_PYTHON) runs it, not a `python3` default.
TEST(ModelDeploymentTest, InlineEnvironmentNamesNoInterpreter) {
  auto d = With("environment", json{{"name", "sklearn-env"},
                                    {"image", "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"},
                                    {"conda_file", "environment/conda.yaml"}});
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ((*d)["environment"],
            json({{"name", "sklearn-env"},
                  {"image", "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"},
                  {"conda_file", "environment/conda.yaml"}}));
  Error empty = ErrorOf(With("environment", json{{"python", " "}}));
  EXPECT_EQ(empty.field(), "environment.python");
}

TEST(ModelDeploymentTest, NameIsRequiredAndValidated) {
  json d = Minimal();
  d.erase("name");
  Error missing = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(missing.message(), "name is required");
  EXPECT_EQ(missing.field(), "name");
  d["name"] = "blue_1";
  Error bad = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(bad.field(), "name");
  EXPECT_TRUE(Contains(bad.message(), "deployment name 'blue_1' is invalid")) << bad.message();
}

TEST(ModelDeploymentTest, ServerManagedFieldsAreDropped) {
  json d = Minimal();
  d["created_at"] = "2026-01-01T00:00:00Z";
  d["updated_at"] = "2026-01-01T00:00:00Z";
  auto out = NormalizeDeployment(d);
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->contains("created_at"));
  EXPECT_FALSE(out->contains("updated_at"));
}

}  // namespace
}  // namespace lote::model

namespace lote::model {
namespace {

TEST(ModelDeploymentPassthroughTest, NamesOrStar) {
  using nlohmann::json;
  auto names = With("passthrough_columns", json{"tripId", "a,b", "q\"uote"});
  ASSERT_TRUE(names) << names.error().message();
  EXPECT_EQ((*names)["passthrough_columns"], json({"tripId", "a,b", "q\"uote"}));
  EXPECT_EQ((*With("passthrough_columns", "*"))["passthrough_columns"], "*");
  EXPECT_EQ((*With("passthrough_columns", json{"*"}))["passthrough_columns"], "*");
  // A string is a comma-separated list (what --set passthrough_columns=a,b gives).
  EXPECT_EQ((*With("passthrough_columns", "tripId, fare"))["passthrough_columns"],
            json({"tripId", "fare"}));
  // Absent: not in the deployment; in the settings block too.
  EXPECT_FALSE(With("description", "x")->contains("passthrough_columns"));
  auto in_settings = With("settings", json{{"passthrough_columns", json{"id"}}});
  ASSERT_TRUE(in_settings) << in_settings.error().message();
  EXPECT_EQ((*in_settings)["passthrough_columns"], json({"id"}));
}

TEST(ModelDeploymentPassthroughTest, BadValuesNameTheField) {
  using nlohmann::json;
  Error number = ErrorOf(With("passthrough_columns", 5));
  EXPECT_EQ(number.field(), "passthrough_columns");
  EXPECT_EQ(number.message(),
            "passthrough_columns must be \"*\" or a list of input column names, got 5");
  Error element = ErrorOf(With("passthrough_columns", json{"a", 1}));
  EXPECT_EQ(element.field(), "passthrough_columns");
  Error empty = ErrorOf(With("passthrough_columns", json{"a", ""}));
  EXPECT_EQ(empty.field(), "passthrough_columns[1]");
  EXPECT_EQ(empty.message(), "passthrough_columns: a column name is empty");
  EXPECT_EQ(ErrorOf(With("passthrough_columns", json::array())).message(),
            "passthrough_columns must be \"*\" or a list of input column names, got an empty list");
  Error twice = ErrorOf(With("passthrough_columns", json{"a", "b", "a"}));
  EXPECT_EQ(twice.field(), "passthrough_columns[2]");
  EXPECT_EQ(twice.message(), "passthrough_columns: column 'a' is named twice");
  Error star = ErrorOf(With("passthrough_columns", json{"a", "*"}));
  EXPECT_EQ(star.message(),
            "passthrough_columns: \"*\" (every column) stands alone, not in a list of names");
  EXPECT_NE(ErrorOf(With("passthrough_columns", json{std::string(1025, 'x')}))
                .message()
                .find("longer than 1024 bytes"),
            std::string::npos);
  json many = json::array();
  for (int i = 0; i < 1001; ++i) many.push_back("c" + std::to_string(i));
  EXPECT_EQ(ErrorOf(With("passthrough_columns", many)).message(),
            "passthrough_columns names 1001 columns; at most 1000");
  Error in_settings = ErrorOf(With("settings", json{{"passthrough_columns", json{""}}}));
  EXPECT_EQ(in_settings.field(), "settings.passthrough_columns[0]");
}

TEST(ModelDeploymentPassthroughTest, RefusedForAScoringScript) {
  using nlohmann::json;
  json d = Minimal();
  d["code_configuration"] = {{"code", "/src"}, {"scoring_script", "score.py"}};
  d["passthrough_columns"] = json{"id"};
  Error e = ErrorOf(NormalizeDeployment(d));
  EXPECT_EQ(e.field(), "passthrough_columns");
  EXPECT_NE(e.message().find("writes its own rows"), std::string::npos) << e.message();
}

}  // namespace
}  // namespace lote::model
