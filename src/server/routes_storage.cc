// REST: /api/v1/datastores (and their files) and /api/v1/uploads.
#include "server/file_transfer.h"
#include "server/http_util.h"
#include "server/server_context.h"

namespace lote::server {

void RegisterDatastoreRoutes(http::Router& router, ServerContext& ctx) {
  auto* reg = ctx.registry;
  router.Post("/api/v1/datastores", [reg](const http::Request& req, http::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->CreateDatastore(*body), 201);
  });
  router.Get("/api/v1/datastores", [reg](const http::Request&, http::Response& res) {
    Reply(res, reg->ListDatastores());
  });
  router.Get("/api/v1/datastores/{name}", [reg](const http::Request& req, http::Response& res) {
    Reply(res, reg->GetDatastore(PathParam(req, "name")));
  });
  router.Delete("/api/v1/datastores/{name}", [reg](const http::Request& req, http::Response& res) {
    Reply(res, reg->DeleteDatastore(PathParam(req, "name")));
  });
  router.AddStream("PUT", "/api/v1/datastores/{name}/files/{path...}",
                   [reg](const http::Request& req) -> Result<std::unique_ptr<http::BodySink>> {
                     std::string rel = PathParam(req, "path");
                     LOTE_ASSIGN_OR_RETURN(auto path, reg->DatastorePath(PathParam(req, "name"), rel));
                     LOTE_TRY(CheckPathLimits(rel));
                     return OpenFileSink(path);
                   });
  router.Get("/api/v1/datastores/{name}/files/{path...}", [reg](const http::Request& req, http::Response& res) {
    std::string rel = PathParam(req, "path");
    auto path = reg->DatastorePath(PathParam(req, "name"), rel);
    if (!path) return SendError(res, path.error());
    if (auto st = CheckPathLimits(rel); !st) return SendError(res, st.error());
    if (auto st = SendFile(res, *path); !st) SendError(res, st.error());
  });
}

void RegisterUploadRoutes(http::Router& router, ServerContext& ctx) {
  auto* reg = ctx.registry;
  router.Post("/api/v1/uploads", [reg](const http::Request&, http::Response& res) {
    auto id = reg->CreateUpload();
    if (!id) return SendError(res, id.error());
    SendJson(res, 201, {{"upload_id", *id}});
  });
  router.AddStream("PUT", "/api/v1/uploads/{upload}/files/{path...}",
                   [reg](const http::Request& req) -> Result<std::unique_ptr<http::BodySink>> {
                     std::string rel = PathParam(req, "path");
                     LOTE_ASSIGN_OR_RETURN(auto path, reg->UploadFilePath(PathParam(req, "upload"), rel));
                     LOTE_TRY(CheckPathLimits(rel));
                     return OpenFileSink(path);
                   });
}

}  // namespace lote::server
