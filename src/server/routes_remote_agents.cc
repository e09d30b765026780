// REST: what remote agents fetch and upload (docs/agent-api.md): the
// manifest of a job's artifacts, its files by hash, the bytes of leased input
// items, and node logs. Agent tokens reach these for their own job only
// (server/auth.h); handlers are thin, the rules are in jobs/.
#include <limits>

#include "artifacts/manifest.h"
#include "server/file_transfer.h"
#include "server/http_util.h"
#include "server/server_context.h"

namespace lote::server {

namespace {

constexpr char kOctets[] = "application/octet-stream";
constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

void SendSlice(http::Response& res, Result<jobs::FileSlice> slice) {
  if (!slice) return SendError(res, slice.error());
  res.SetFileRange(200, std::move(slice->fd), slice->offset, slice->length, kOctets);
}

}  // namespace

void RegisterRemoteAgentRoutes(http::Router& router, ServerContext& ctx) {
  auto* jm = ctx.jobs;
  router.Get("/api/v1/jobs/{job}/artifacts", [jm](const http::Request& req, http::Response& res) {
    Reply(res, jm->Artifacts(PathParam(req, "job")));
  });
  router.Get("/api/v1/jobs/{job}/blobs/{sha256}", [jm](const http::Request& req,
                                                       http::Response& res) {
    std::string sha = PathParam(req, "sha256");
    if (!artifacts::IsSha256Hex(sha)) {
      return SendError(
          res, InvalidArgument("a blob is named by its sha256: 64 lowercase hex digits", "sha256"));
    }
    SendSlice(res, jm->OpenBlob(PathParam(req, "job"), sha));
  });
  router.Get("/api/v1/jobs/{job}/tasks/{task}/items/{index}",
             [jm](const http::Request& req, http::Response& res) {
               auto task = ParseInteger(PathParam(req, "task"), "task id", 0, kMaxInt64);
               if (!task) return SendError(res, task.error());
               auto index = ParseInteger(PathParam(req, "index"), "item index", 0, kMaxInt64);
               if (!index) return SendError(res, index.error());
               if (!req.HasQuery("lease"))
                 return SendError(res, InvalidArgument("needs ?lease=<the task's lease>", "lease"));
               std::optional<int64_t> span;
               if (req.HasQuery("span")) {
                 auto k = ParseInteger(req.Query("span"), "span", 0, kMaxInt64);
                 if (!k) return SendError(res, k.error());
                 span = *k;
               }
               SendSlice(res, jm->OpenItem(PathParam(req, "job"), *task, *index,
                                           std::string(req.Query("lease")), span));
             });
  // A file a remote node's workers wrote under AZUREML_BI_OUTPUT_PATH, into
  // the job's output folder (never overwriting: 409 when it exists).
  router.AddStream("PUT", "/api/v1/jobs/{job}/node-outputs/{path...}",
                   [jm](const http::Request& req) -> Result<std::unique_ptr<http::BodySink>> {
                     std::string rel = PathParam(req, "path");
                     LOTE_TRY(CheckPathLimits(rel));
                     LOTE_ASSIGN_OR_RETURN(storage::Beneath out, jm->NodeOutputFolder(PathParam(req, "job"), rel));
                     return OpenFileSink(out, rel);
                   });
  router.Get("/api/v1/jobs/{job}/node-logs/{path...}",
             [jm](const http::Request& req, http::Response& res) {
               std::string rel = PathParam(req, "path");
               if (auto st = CheckPathLimits(rel); !st) return SendError(res, st.error());
               auto size = jm->NodeLogSize(PathParam(req, "job"), rel);
               if (!size) return SendError(res, size.error());
               SendJson(res, 200, {{"path", rel}, {"size", *size}});
             });
  router.Post("/api/v1/jobs/{job}/node-logs/{path...}",
              [jm](const http::Request& req, http::Response& res) {
                std::string rel = PathParam(req, "path");
                if (auto st = CheckPathLimits(rel); !st) return SendError(res, st.error());
                auto offset = ParseInteger(req.Query("offset"), "offset", 0, kMaxInt64);
                if (!offset) return SendError(res, offset.error());
                auto size = jm->WriteNodeLog(PathParam(req, "job"), rel,
                                             static_cast<uint64_t>(*offset), req.body);
                if (!size) return SendError(res, size.error());
                SendJson(res, 200, {{"path", rel}, {"size", *size}});
              });
}

}  // namespace lote::server
