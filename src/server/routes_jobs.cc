// REST: invoking endpoints and watching jobs (users), and the agent API
// (docs/agent-api.md): config, lease, results, release, fail.
#include <limits>

#include "common/util.h"
#include "server/auth.h"
#include "server/file_transfer.h"
#include "server/http_util.h"
#include "server/server_context.h"

namespace lote::server {

namespace {

using nlohmann::json;

// Optional typed members of an agent's body: absent gives the default, a
// wrong type is the client's error naming the field (json::value() would
// throw instead).
Result<std::string> StringOr(const json& body, const char* key, std::string fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_string()) return InvalidArgument(std::string(key) + " must be a string", key);
  return it->get<std::string>();
}

Result<int64_t> IntegerOr(const json& body, const char* key, int64_t fallback, int64_t min, int64_t max) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  bool in_range = false;
  if (it->is_number_unsigned()) {
    in_range = it->get<uint64_t>() <= static_cast<uint64_t>(max) && static_cast<int64_t>(it->get<uint64_t>()) >= min;
  } else if (it->is_number_integer()) {
    in_range = it->get<int64_t>() >= min && it->get<int64_t>() <= max;
  }
  if (!in_range) {
    return InvalidArgument(std::string(key) + " must be an integer from " + std::to_string(min) + " to " +
                               std::to_string(max),
                           key);
  }
  return it->get<int64_t>();
}

Result<jobs::AttemptReport> ReportFromJson(const json& b) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  jobs::AttemptReport r;
  LOTE_ASSIGN_OR_RETURN(r.lease, StringOr(b, "lease", ""));
  LOTE_ASSIGN_OR_RETURN(r.worker, StringOr(b, "worker", ""));
  LOTE_ASSIGN_OR_RETURN(r.outcome, StringOr(b, "outcome", "RUN_EXCEPTION"));
  LOTE_ASSIGN_OR_RETURN(r.error, StringOr(b, "error", ""));
  LOTE_ASSIGN_OR_RETURN(r.traceback, StringOr(b, "traceback", ""));
  LOTE_ASSIGN_OR_RETURN(r.started_ms, IntegerOr(b, "started_ms", 0, 0, kMax));
  LOTE_ASSIGN_OR_RETURN(r.elapsed_ms, IntegerOr(b, "elapsed_ms", 0, 0, kMax));
  return r;
}

}  // namespace

void RegisterJobRoutes(http::Router& router, ServerContext& ctx) {
  auto* jm = ctx.jobs;
  router.Post("/api/v1/endpoints/{name}/jobs", [jm, &ctx](const http::Request& req, http::Response& res) {
    // The gate checked the token's signature; an endpoint token must also
    // still be for this endpoint as it is now (not deleted or replaced).
    if (auto st = CheckInvoker(ctx, req); !st) return SendError(res, st.error());
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, jm->Invoke(PathParam(req, "name"), *body, std::string(req.HeaderValue("azureml-model-deployment"))),
          201);
  });
  router.Get("/api/v1/jobs", [jm](const http::Request& req, http::Response& res) {
    Reply(res, jm->ListJobs(std::string(req.Query("endpoint"))));
  });
  // These four an endpoint token may call for its own endpoint's jobs.
  router.Get("/api/v1/jobs/{job}", [jm, &ctx](const http::Request& req, http::Response& res) {
    if (auto st = CheckJobReader(ctx, req, PathParam(req, "job")); !st) return SendError(res, st.error());
    Reply(res, jm->GetJob(PathParam(req, "job")));
  });
  router.Post("/api/v1/jobs/{job}/cancel", [jm](const http::Request& req, http::Response& res) {
    Reply(res, jm->Cancel(PathParam(req, "job")));
  });
  // An ended job's record and folder; never its output location's files.
  router.Delete("/api/v1/jobs/{job}", [jm](const http::Request& req, http::Response& res) {
    Status st = jm->DeleteJob(PathParam(req, "job"));
    if (!st) return SendError(res, st.error());
    res.status = 204;
  });
  router.Get("/api/v1/jobs/{job}/log", [jm, &ctx](const http::Request& req, http::Response& res) {
    if (auto st = CheckJobReader(ctx, req, PathParam(req, "job")); !st) return SendError(res, st.error());
    int64_t offset = 0;
    if (req.HasQuery("offset")) {
      auto parsed = ParseInteger(req.Query("offset"), "offset", 0, std::numeric_limits<int64_t>::max());
      if (!parsed) return SendError(res, parsed.error());
      offset = *parsed;
    }
    Reply(res, jm->ReadLog(PathParam(req, "job"), offset));
  });
  // What the scoring scripts printed (lote job stream --user-logs).
  router.Get("/api/v1/jobs/{job}/user-logs", [jm, &ctx](const http::Request& req, http::Response& res) {
    if (auto st = CheckJobReader(ctx, req, PathParam(req, "job")); !st) return SendError(res, st.error());
    Reply(res, jm->ListUserLogs(PathParam(req, "job")));
  });
  router.Get("/api/v1/jobs/{job}/user-logs/{path...}", [jm, &ctx](const http::Request& req, http::Response& res) {
    if (auto st = CheckJobReader(ctx, req, PathParam(req, "job")); !st) return SendError(res, st.error());
    int64_t offset = 0;
    if (req.HasQuery("offset")) {
      auto parsed = ParseInteger(req.Query("offset"), "offset", 0, std::numeric_limits<int64_t>::max());
      if (!parsed) return SendError(res, parsed.error());
      offset = *parsed;
    }
    Reply(res, jm->ReadUserLog(PathParam(req, "job"), PathParam(req, "path"), offset));
  });
  router.Get("/api/v1/jobs/{job}/files", [jm, &ctx](const http::Request& req, http::Response& res) {
    if (auto st = CheckJobReader(ctx, req, PathParam(req, "job")); !st) return SendError(res, st.error());
    Reply(res, jm->ListFiles(PathParam(req, "job")));
  });
  router.Get("/api/v1/jobs/{job}/files/{path...}", [jm, &ctx](const http::Request& req, http::Response& res) {
    if (auto st = CheckJobReader(ctx, req, PathParam(req, "job")); !st) return SendError(res, st.error());
    std::string rel = PathParam(req, "path");
    if (auto st = CheckPathLimits(rel); !st) return SendError(res, st.error());
    auto path = jm->FilePath(PathParam(req, "job"), rel);
    if (!path) return SendError(res, path.error());
    if (auto st = SendFile(res, *path); !st) SendError(res, st.error());
  });

  // Agents.
  router.Get("/api/v1/jobs/{job}/agent-config", [jm](const http::Request& req, http::Response& res) {
    Reply(res, jm->AgentConfig(PathParam(req, "job")));
  });
  router.Post("/api/v1/jobs/{job}/lease", [jm](const http::Request& req, http::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    auto worker = StringOr(*body, "worker", "?");
    if (!worker) return SendError(res, worker.error());
    auto max = IntegerOr(*body, "max", 1, std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
    if (!max) return SendError(res, max.error());
    Reply(res, jm->Lease(PathParam(req, "job"), *worker, static_cast<int>(*max)));
  });
  router.AddStream("POST", "/api/v1/jobs/{job}/tasks/results",
                   [jm](const http::Request& req) -> Result<std::unique_ptr<http::BodySink>> {
                     std::string job = PathParam(req, "job");
                     LOTE_ASSIGN_OR_RETURN(auto staged, jm->StagingPath(job));
                     return OpenFileSink(
                         staged,
                         [jm, job](const std::filesystem::path& stored, const http::Request&, http::Response& res) {
                           Reply(res, jm->CommitResults(job, stored));
                         },
                         // A full disk fails the job at once, with the reason.
                         [jm, job](const Error& e) {
                           jm->ReportStorageError(job, e.WithContext("storing a batch of results"));
                         },
                         // Synced when the job finalizes; rows lost before are run again.
                         Durability::kUnsynced);
                   });
  // Results by file: a local agent wrote the batch into the job's staging
  // folder itself; the body names it ({"file": "agent-<hex>", "bytes": n}).
  router.Post("/api/v1/jobs/{job}/tasks/results-file", [jm](const http::Request& req, http::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    auto file = body->find("file");
    if (file == body->end() || !file->is_string()) {
      return SendError(res, InvalidArgument("needs the name of the results file, a string", "file"));
    }
    auto bytes = body->find("bytes");
    if (bytes == body->end() || !bytes->is_number_unsigned()) {
      return SendError(res, InvalidArgument("needs the results file's size in bytes, an integer >= 0", "bytes"));
    }
    Reply(res, jm->CommitResultsFile(PathParam(req, "job"), file->get<std::string>(), bytes->get<uint64_t>()));
  });
  router.Post("/api/v1/jobs/{job}/tasks/release", [jm](const http::Request& req, http::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, jm->ReleaseTasks(PathParam(req, "job"), *body));
  });
  router.Post("/api/v1/jobs/{job}/tasks/{task}/fail", [jm](const http::Request& req, http::Response& res) {
    auto task = ParseInteger(PathParam(req, "task"), "task id", 0, std::numeric_limits<int64_t>::max());
    if (!task) return SendError(res, task.error());
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    auto report = ReportFromJson(*body);
    if (!report) return SendError(res, report.error());
    Reply(res, jm->FailAttempt(PathParam(req, "job"), *task, *report));
  });
}

}  // namespace lote::server
