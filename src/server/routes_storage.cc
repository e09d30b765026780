// REST: /api/v1/datastores (and their files) and /api/v1/uploads.
#include "server/file_transfer.h"
#include "server/http_util.h"
#include "server/server_context.h"

namespace lote::server {

void RegisterDatastoreRoutes(httplib::Server& http, ServerContext& ctx) {
  auto* reg = ctx.registry;
  http.Post("/api/v1/datastores", [reg](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->CreateDatastore(*body), 201);
  });
  http.Get("/api/v1/datastores", [reg](const httplib::Request&, httplib::Response& res) {
    Reply(res, reg->ListDatastores());
  });
  http.Get("/api/v1/datastores/([^/]+)", [reg](const httplib::Request& req, httplib::Response& res) {
    Reply(res, reg->GetDatastore(PathParam(req, 1)));
  });
  http.Delete("/api/v1/datastores/([^/]+)", [reg](const httplib::Request& req, httplib::Response& res) {
    Reply(res, reg->DeleteDatastore(PathParam(req, 1)));
  });
  http.Put("/api/v1/datastores/([^/]+)/files/(.+)",
           [reg](const httplib::Request& req, httplib::Response& res,
                 const httplib::ContentReader& reader) {
             auto ds = reg->OpenDatastore(PathParam(req, 1));
             if (!ds) return SendError(res, ds.error());
             Reply(res, ReceiveFile(reader, *ds, PathParam(req, 2)), 201);
           });
  http.Get("/api/v1/datastores/([^/]+)/files/(.+)",
           [reg](const httplib::Request& req, httplib::Response& res) {
             auto ds = reg->OpenDatastore(PathParam(req, 1));
             if (!ds) return SendError(res, ds.error());
             if (auto st = SendFile(res, *ds, PathParam(req, 2)); !st) SendError(res, st.error());
           });
}

void RegisterUploadRoutes(httplib::Server& http, ServerContext& ctx) {
  auto* reg = ctx.registry;
  http.Post("/api/v1/uploads", [reg](const httplib::Request&, httplib::Response& res) {
    auto id = reg->CreateUpload();
    if (!id) return SendError(res, id.error());
    SendJson(res, 201, {{"upload_id", *id}});
  });
  http.Put("/api/v1/uploads/([^/]+)/files/(.+)",
           [reg](const httplib::Request& req, httplib::Response& res,
                 const httplib::ContentReader& reader) {
             auto up = reg->OpenUpload(PathParam(req, 1));
             if (!up) return SendError(res, up.error());
             Reply(res, ReceiveFile(reader, *up, PathParam(req, 2)), 201);
           });
}

}  // namespace lote::server
