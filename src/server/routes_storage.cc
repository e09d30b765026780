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
                     LOTE_ASSIGN_OR_RETURN(auto ds, reg->OpenDatastore(PathParam(req, "name")));
                     return OpenFileSink(ds, PathParam(req, "path"));
                   });
  router.Get("/api/v1/datastores/{name}/files/{path...}", [reg](const http::Request& req, http::Response& res) {
    auto ds = reg->OpenDatastore(PathParam(req, "name"));
    if (!ds) return SendError(res, ds.error());
    if (auto st = SendFile(res, *ds, PathParam(req, "path")); !st) SendError(res, st.error());
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
                     LOTE_ASSIGN_OR_RETURN(auto up, reg->OpenUpload(PathParam(req, "upload")));
                     return OpenFileSink(up, PathParam(req, "path"));
                   });
}

}  // namespace lote::server
