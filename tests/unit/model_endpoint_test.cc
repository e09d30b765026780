#include <gtest/gtest.h>

#include "model/specs.h"
#include "model_test_util.h"

namespace lote::model {
namespace {

using nlohmann::json;
using testing::Contains;
using testing::ErrorOf;
using testing::Yaml;

// The seed's create-batch-endpoint.yml (list form), unchanged.
constexpr std::string_view kListForm = R"($schema: https://azuremlschemas.azureedge.net/latest/batchEndpoint.schema.json
name: mybatchedp
type: batch
auth_mode: aad_token
traffic:
  autolog-deployment: 100

deployments:
  - name: autolog-deployment
    model:
      name: autolog
      version: 1
      local_path: ./autolog
    compute:
      target: azureml:cpu-cluster
      instance_count: 2
    mini_batch_size: 5
    output_file_name: predictions.csv
    retry_settings:
      max_retries: 3
      timeout: 30
    error_threshold: -1
    logging_level: info
)";

// The public examples' map form, unchanged.
constexpr std::string_view kMapForm = R"($schema: https://azuremlschemas.azureedge.net/latest/batchEndpoint.schema.json
name: mybatchedp
description: my sample batch endpoint
type: batch
auth_mode: aad_token
traffic:
  autolog-deployment: 100
deployments:
  autolog-deployment:
    model:
      name: autolog_model
      version: 1
      local_path: ./autolog_nyc_taxi
    compute:
      target: azureml:cpu-cluster
      instance_count: 1
)";

json Dep(const std::string& name) {
  return json{{"name", name}, {"model", "azureml:m:1"}, {"compute", {{"target", "cpu-cluster"}}}};
}

json Endpoint(json deployments, json traffic = nullptr) {
  json ep = {{"name", "ep1"}, {"deployments", std::move(deployments)}};
  if (!traffic.is_null()) ep["traffic"] = std::move(traffic);
  return ep;
}

TEST(ModelEndpointTest, SeedListForm) {
  auto ep = NormalizeEndpoint(Yaml(kListForm));
  ASSERT_TRUE(ep) << ep.error().message() << " at " << ep.error().field();
  EXPECT_EQ((*ep)["name"], "mybatchedp");
  EXPECT_EQ((*ep)["type"], "batch");
  EXPECT_EQ((*ep)["auth_mode"], "aad_token");
  EXPECT_EQ((*ep)["description"], "");
  EXPECT_EQ((*ep)["traffic"], json({{"autolog-deployment", 100}}));
  EXPECT_EQ((*ep)["defaults"], json({{"deployment_name", "autolog-deployment"}}));
  ASSERT_EQ((*ep)["deployments"].size(), 1u);
  const json& d = (*ep)["deployments"][0];
  EXPECT_EQ(d["model"], json({{"name", "autolog"}, {"version", "1"}, {"local_path", "./autolog"}}));
  EXPECT_EQ(d["compute"], json({{"target", "azureml:cpu-cluster"}, {"instance_count", 2}}));
  EXPECT_EQ(d["mini_batch_size"], 5);
  EXPECT_EQ(d["retry_settings"], json({{"max_retries", 3}, {"timeout", 30}}));
  EXPECT_EQ(d["error_threshold"], -1);
  EXPECT_EQ(d["max_concurrency_per_instance"], 1);
}

TEST(ModelEndpointTest, SeedMapForm) {
  auto ep = NormalizeEndpoint(Yaml(kMapForm));
  ASSERT_TRUE(ep) << ep.error().message() << " at " << ep.error().field();
  EXPECT_EQ((*ep)["description"], "my sample batch endpoint");
  EXPECT_EQ((*ep)["traffic"], json({{"autolog-deployment", 100}}));
  ASSERT_EQ((*ep)["deployments"].size(), 1u);
  const json& d = (*ep)["deployments"][0];
  EXPECT_EQ(d["name"], "autolog-deployment");
  EXPECT_EQ(d["model"]["name"], "autolog_model");
  EXPECT_EQ(d["model"]["version"], "1");
  EXPECT_EQ(d["compute"]["instance_count"], 1);
}

TEST(ModelEndpointTest, CanonicalFormIsAFixedPoint) {
  json ep = Endpoint(json::array({Dep("blue"), Dep("green")}));
  auto once = NormalizeEndpoint(ep);
  ASSERT_TRUE(once);
  json stored = *once;
  stored["scoring_uri"] = "http://127.0.0.1:8070/api/v1/endpoints/ep1/jobs";
  stored["created_at"] = stored["updated_at"] = "2026-11-25T12:00:00Z";
  auto twice = NormalizeEndpoint(stored);
  ASSERT_TRUE(twice) << twice.error().message();
  EXPECT_EQ(*twice, *once);
}

TEST(ModelEndpointTest, FirstDeploymentGetsTrafficByDefault) {
  auto ep = NormalizeEndpoint(Endpoint(json::array({Dep("zeta"), Dep("alpha")})));
  ASSERT_TRUE(ep);
  EXPECT_EQ((*ep)["traffic"], json({{"zeta", 100}}));
  EXPECT_EQ((*ep)["defaults"]["deployment_name"], "zeta");
  EXPECT_EQ((*ep)["deployments"][0]["name"], "zeta");

  auto empty = NormalizeEndpoint(Endpoint(json::array({Dep("zeta")}), json::object()));
  ASSERT_TRUE(empty);
  EXPECT_EQ((*empty)["traffic"], json({{"zeta", 100}}));

  auto none = NormalizeEndpoint(json{{"name", "ep1"}});
  ASSERT_TRUE(none);
  EXPECT_EQ((*none)["traffic"], json::object());
  EXPECT_EQ((*none)["deployments"], json::array());
  EXPECT_FALSE(none->contains("defaults"));

  // A map of several deployments has no "first": none gets traffic, and the
  // canonical form says so explicitly (see the next test).
  json m = {{"name", "ep1"}, {"deployments", {{"a-1", Dep("a-1")}, {"b-1", Dep("b-1")}}}};
  auto map = NormalizeEndpoint(m);
  ASSERT_TRUE(map);
  EXPECT_EQ((*map)["traffic"], json({{"a-1", 0}, {"b-1", 0}}));
  EXPECT_FALSE(map->contains("defaults"));
}

// The canonical form is a list, where empty traffic means "the first gets
// 100"; a map of several deployments without traffic used to come out with
// empty traffic, so reading it back (`endpoint show -o yaml` into `--file`)
// sent the traffic to one deployment (found by fuzz/yaml_spec_fuzzer).
TEST(ModelEndpointTest, AMapWithoutTrafficKeepsNoTrafficWhenReadBack) {
  json m = {{"name", "ep1"}, {"deployments", {{"blue", Dep("blue")}, {"green", Dep("green")}}}};
  auto once = NormalizeEndpoint(m);
  ASSERT_TRUE(once) << once.error().message();
  auto twice = NormalizeEndpoint(*once);
  ASSERT_TRUE(twice) << twice.error().message();
  EXPECT_EQ(*twice, *once);
  EXPECT_EQ((*twice)["traffic"], json({{"blue", 0}, {"green", 0}}));
  EXPECT_FALSE(twice->contains("defaults"));
}

TEST(ModelEndpointTest, TrafficMustBeZeroOrHundred) {
  Error e = ErrorOf(NormalizeEndpoint(Endpoint(json::array({Dep("blue")}), {{"blue", 50}})));
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.field(), "traffic.blue");
  EXPECT_EQ(e.message(),
            "traffic for deployment 'blue' is 50; batch endpoints accept only 0 or 100 (the "
            "deployment with 100 runs every job)");

  auto str = NormalizeEndpoint(Endpoint(json::array({Dep("blue")}), {{"blue", "100"}}));
  ASSERT_TRUE(str);
  EXPECT_EQ((*str)["traffic"], json({{"blue", 100}}));
}

TEST(ModelEndpointTest, AtMostOneHundred) {
  Error e = ErrorOf(NormalizeEndpoint(
      Endpoint(json::array({Dep("blue"), Dep("green")}), {{"blue", 100}, {"green", 100}})));
  EXPECT_EQ(e.field(), "traffic.green");
  EXPECT_EQ(e.message(),
            "traffic gives 100 to both 'blue' and 'green'; at most one deployment can have 100");

  auto zeros = NormalizeEndpoint(
      Endpoint(json::array({Dep("blue"), Dep("green")}), {{"blue", 0}, {"green", 100}}));
  ASSERT_TRUE(zeros);
  EXPECT_EQ((*zeros)["defaults"]["deployment_name"], "green");
}

TEST(ModelEndpointTest, TrafficMustNameADeployment) {
  Error e = ErrorOf(NormalizeEndpoint(Endpoint(json::array({Dep("blue")}), {{"green", 100}})));
  EXPECT_EQ(e.field(), "traffic.green");
  EXPECT_EQ(e.message(),
            "traffic names deployment 'green', which this endpoint does not have (deployments: "
            "blue)");
}

TEST(ModelEndpointTest, DuplicateDeploymentNames) {
  Error e = ErrorOf(NormalizeEndpoint(Endpoint(json::array({Dep("blue"), Dep("blue")}))));
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.field(), "deployments[1].name");
  EXPECT_EQ(e.message(), "duplicate deployment name 'blue' (also deployments[0])");
}

TEST(ModelEndpointTest, MapFormNameMustMatchKey) {
  json d = Dep("green");
  json ep = {{"name", "ep1"}, {"deployments", {{"blue", d}}}};
  Error e = ErrorOf(NormalizeEndpoint(ep));
  EXPECT_EQ(e.field(), "deployments.blue.name");
  EXPECT_EQ(e.message(), "deployment name 'green' does not match its key 'blue'");

  json bad_key = {{"name", "ep1"}, {"deployments", {{"b_1", Dep("b-1")}}}};
  EXPECT_EQ(ErrorOf(NormalizeEndpoint(bad_key)).field(), "deployments.b_1");
}

TEST(ModelEndpointTest, DeploymentErrorsCarryPathAndName) {
  json d = Dep("blue");
  d["mini_batch_size"] = 0;
  Error list = ErrorOf(NormalizeEndpoint(Endpoint(json::array({Dep("ok-1"), d}))));
  EXPECT_EQ(list.field(), "deployments[1].mini_batch_size");
  EXPECT_TRUE(list.message().starts_with("deployment 'blue': mini_batch_size must be"))
      << list.message();

  d.erase("name");
  Error map = ErrorOf(NormalizeEndpoint(json{{"name", "ep1"}, {"deployments", {{"blue", d}}}}));
  EXPECT_EQ(map.field(), "deployments.blue.mini_batch_size");
}

TEST(ModelEndpointTest, EndpointKeys) {
  Error unknown = ErrorOf(NormalizeEndpoint(json{{"name", "ep1"}, {"trafic", json::object()}}));
  EXPECT_EQ(unknown.message(), "unknown key 'trafic' in endpoint (did you mean 'traffic'?)");
  EXPECT_EQ(unknown.field(), "trafic");

  Error name = ErrorOf(NormalizeEndpoint(json{{"name", "my_ep"}}));
  EXPECT_EQ(name.field(), "name");
  EXPECT_TRUE(Contains(name.message(), "endpoint name 'my_ep' is invalid")) << name.message();
  EXPECT_EQ(ErrorOf(NormalizeEndpoint(json::object())).message(), "name is required");

  Error type = ErrorOf(NormalizeEndpoint(json{{"name", "ep1"}, {"type", "online"}}));
  EXPECT_EQ(type.field(), "type");
  Error auth = ErrorOf(NormalizeEndpoint(json{{"name", "ep1"}, {"auth_mode", "aml_token"}}));
  EXPECT_EQ(auth.field(), "auth_mode");
  EXPECT_EQ((*NormalizeEndpoint(json{{"name", "ep1"}, {"auth_mode", "Key"}}))["auth_mode"], "key");
  EXPECT_FALSE(NormalizeEndpoint(json::array()));
}

TEST(ModelEndpointTest, GaDefaultsAreTraffic) {
  json ep = Endpoint(json::array({Dep("blue"), Dep("green")}));
  ep["defaults"] = {{"deployment_name", "green"}};
  auto out = NormalizeEndpoint(ep);
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_EQ((*out)["traffic"], json({{"green", 100}}));
  EXPECT_EQ((*out)["defaults"]["deployment_name"], "green");

  ep["traffic"] = {{"blue", 100}};
  Error clash = ErrorOf(NormalizeEndpoint(ep));
  EXPECT_EQ(clash.field(), "defaults.deployment_name");
  EXPECT_EQ(clash.message(),
            "defaults.deployment_name 'green' disagrees with traffic, which gives 100 to "
            "'blue'; give one of them");

  ep["defaults"] = {{"deployment_name", "red"}};
  ep.erase("traffic");
  EXPECT_EQ(ErrorOf(NormalizeEndpoint(ep)).field(), "defaults.deployment_name");
}

// From a YAML file to the message the CLI prints.
TEST(ModelEndpointTest, ErrorsMapToYamlLines) {
  constexpr std::string_view text = R"(name: mybatchedp
traffic:
  blue: 100
deployments:
  blue:
    model: azureml:m:1
    compute:
      target: azureml:cpu-cluster
    retry_settings:
      timeout: 0
)";
  auto doc = ParseYaml(text, "ep.yml");
  ASSERT_TRUE(doc);
  Error e = ErrorOf(NormalizeEndpoint(doc->value));
  EXPECT_EQ(doc->Describe(e),
            "ep.yml:10: deployments.blue.retry_settings.timeout: deployment 'blue': "
            "retry_settings.timeout must be > 0 seconds, got 0");

  auto list = ParseYaml("name: ep1\ndeployments:\n  - name: a-1\n    model: azureml:m:1\n", "l.yml");
  ASSERT_TRUE(list);
  Error missing = ErrorOf(NormalizeEndpoint(list->value));
  EXPECT_EQ(list->Describe(missing),
            "l.yml:3: deployments[0].compute.target: deployment 'a-1': compute.target is required");
}

}  // namespace
}  // namespace lote::model
