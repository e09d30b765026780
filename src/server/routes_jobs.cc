// REST: invoking endpoints and watching jobs (users), and the agent API
// (docs/agent-api.md): config, lease, result, fail.
#include "server/file_transfer.h"
#include "server/http_util.h"
#include "server/server_context.h"

namespace lote::server {

namespace {

jobs::AttemptReport ReportFromJson(const nlohmann::json& b) {
  jobs::AttemptReport r;
  r.lease = b.value("lease", "");
  r.worker = b.value("worker", "");
  r.outcome = b.value("outcome", "RUN_EXCEPTION");
  r.error = b.value("error", "");
  r.traceback = b.value("traceback", "");
  r.started_ms = b.value("started_ms", int64_t{0});
  r.elapsed_ms = b.value("elapsed_ms", int64_t{0});
  return r;
}

}  // namespace

void RegisterJobRoutes(httplib::Server& http, ServerContext& ctx) {
  auto* jm = ctx.jobs;
  http.Post("/api/v1/endpoints/([^/]+)/jobs", [jm](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, jm->Invoke(PathParam(req, 1), *body, req.get_header_value("azureml-model-deployment")), 201);
  });
  http.Get("/api/v1/jobs", [jm](const httplib::Request& req, httplib::Response& res) {
    Reply(res, jm->ListJobs(req.get_param_value("endpoint")));
  });
  http.Get("/api/v1/jobs/([^/]+)", [jm](const httplib::Request& req, httplib::Response& res) {
    Reply(res, jm->GetJob(PathParam(req, 1)));
  });
  http.Post("/api/v1/jobs/([^/]+)/cancel", [jm](const httplib::Request& req, httplib::Response& res) {
    Reply(res, jm->Cancel(PathParam(req, 1)));
  });
  http.Get("/api/v1/jobs/([^/]+)/log", [jm](const httplib::Request& req, httplib::Response& res) {
    int64_t offset = std::strtoll(req.get_param_value("offset").c_str(), nullptr, 10);
    Reply(res, jm->ReadLog(PathParam(req, 1), offset));
  });
  http.Get("/api/v1/jobs/([^/]+)/files", [jm](const httplib::Request& req, httplib::Response& res) {
    Reply(res, jm->ListFiles(PathParam(req, 1)));
  });
  http.Get("/api/v1/jobs/([^/]+)/files/(.+)", [jm](const httplib::Request& req, httplib::Response& res) {
    auto path = jm->FilePath(PathParam(req, 1), PathParam(req, 2));
    if (!path) return SendError(res, path.error());
    if (auto st = SendFile(res, *path); !st) SendError(res, st.error());
  });

  // Agents.
  http.Get("/api/v1/jobs/([^/]+)/agent-config", [jm](const httplib::Request& req, httplib::Response& res) {
    Reply(res, jm->AgentConfig(PathParam(req, 1)));
  });
  http.Post("/api/v1/jobs/([^/]+)/lease", [jm](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, jm->Lease(PathParam(req, 1), body->value("worker", "?"), body->value("max", 1)));
  });
  http.Post("/api/v1/jobs/([^/]+)/tasks/results",
            [jm](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
              std::string job = PathParam(req, 1);
              auto staged = jm->StagingPath(job);
              if (!staged) return SendError(res, staged.error());
              if (auto st = ReceiveFile(reader, *staged); !st) return SendError(res, st.error());
              Reply(res, jm->CommitResults(job, *staged));
            });
  http.Post("/api/v1/jobs/([^/]+)/tasks/release", [jm](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, jm->ReleaseTasks(PathParam(req, 1), *body));
  });
  http.Post("/api/v1/jobs/([^/]+)/tasks/([0-9]+)/fail", [jm](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, jm->FailAttempt(PathParam(req, 1), std::stoll(PathParam(req, 2)), ReportFromJson(*body)));
  });
}

}  // namespace lote::server
