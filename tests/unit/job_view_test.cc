#include "jobs/job_view.h"

#include <gtest/gtest.h>

namespace lote::jobs {
namespace {

using nlohmann::json;

TEST(JobViewTest, AzureShapeSitsBesideLotesFields) {
  json view = {{"name", "ep-1"}, {"type", "batch"}, {"endpoint", "ep"}, {"deployment", "blue"},
               {"status", "Running"}, {"created_at", "2026-01-01T00:00:00Z"},
               {"input", {{"kind", "url"}, {"description", "https://h/d/"}}},
               {"output", {{"datastore", "workspaceblobstore"}, {"path", "out/x"}, {"file_name", "p.csv"}}},
               {"interactionEndpoints", {{"Studio", {{"endpoint", "http://s:1/api/v1/jobs/ep-1"}}}}}};
  json v = WithAzureShape(view, "http://s:1");
  EXPECT_EQ(v["id"], "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/lote/providers/"
                     "Microsoft.MachineLearningServices/workspaces/lote/jobs/ep-1");
  EXPECT_EQ(v["type"], "batch");  // lote's, as before
  EXPECT_EQ(v["resourceType"], "Microsoft.MachineLearningServices/workspaces/jobs");
  EXPECT_EQ(v["name"], "ep-1");
  EXPECT_EQ(v["status"], "Running");  // lote's own, unchanged
  EXPECT_EQ(v["endpoint"], "ep");
  EXPECT_EQ(v["interactionEndpoints"], view["interactionEndpoints"]);
  const json& p = v["properties"];
  EXPECT_EQ(p["status"], "Running");
  EXPECT_EQ(p["jobType"], "Pipeline");
  EXPECT_EQ(p["interactionEndpoints"]["Studio"]["endpoint"], "http://s:1/jobs/ep-1");  // the dashboard's page
  EXPECT_EQ(p["interactionEndpoints"]["Tracking"]["endpoint"], "http://s:1/api/v1/jobs/ep-1/log");
  EXPECT_EQ(p["services"]["Studio"]["jobServiceType"], "Studio");
  EXPECT_EQ(p["inputs"]["input"]["uri"], "https://h/d/");
  EXPECT_EQ(p["outputs"]["score"]["uri"], "azureml://datastores/workspaceblobstore/paths/out/x/");
  EXPECT_EQ(v["systemData"]["createdAt"], "2026-01-01T00:00:00Z");
  // Not a job: left alone.
  EXPECT_EQ(WithAzureShape(json::object(), "http://s"), json::object());
}

}  // namespace
}  // namespace lote::jobs
