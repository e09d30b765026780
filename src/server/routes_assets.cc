// REST: /api/v1/models and /api/v1/data (named, versioned assets).
#include "server/http_util.h"
#include "server/server_context.h"

namespace lote::server {

void RegisterModelRoutes(http::Router& router, ServerContext& ctx) {
  auto* reg = ctx.registry;
  router.Post("/api/v1/models", [reg](const http::Request& req, http::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->CreateModel(*body), 201);
  });
  router.Get("/api/v1/models", [reg](const http::Request& req, http::Response& res) {
    Reply(res, reg->ListModels(std::string(req.Query("name"))));
  });
  router.Get("/api/v1/models/{name}/versions", [reg](const http::Request& req, http::Response& res) {
    Reply(res, reg->ListModels(PathParam(req, "name")));
  });
  router.Get("/api/v1/models/{name}/versions/{version}", [reg](const http::Request& req, http::Response& res) {
    Reply(res, reg->GetModel(PathParam(req, "name"), PathParam(req, "version")));
  });
  router.Delete("/api/v1/models/{name}/versions/{version}", [reg](const http::Request& req, http::Response& res) {
    Reply(res, reg->DeleteModel(PathParam(req, "name"), PathParam(req, "version")));
  });
}

void RegisterDataRoutes(http::Router& router, ServerContext& ctx) {
  auto* reg = ctx.registry;
  router.Post("/api/v1/data", [reg](const http::Request& req, http::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->CreateData(*body), 201);
  });
  router.Get("/api/v1/data", [reg](const http::Request& req, http::Response& res) {
    Reply(res, reg->ListData(std::string(req.Query("name"))));
  });
  router.Get("/api/v1/data/{name}/versions", [reg](const http::Request& req, http::Response& res) {
    Reply(res, reg->ListData(PathParam(req, "name")));
  });
  router.Get("/api/v1/data/{name}/versions/{version}", [reg](const http::Request& req, http::Response& res) {
    Reply(res, reg->GetData(PathParam(req, "name"), PathParam(req, "version")));
  });
  router.Delete("/api/v1/data/{name}/versions/{version}", [reg](const http::Request& req, http::Response& res) {
    Reply(res, reg->DeleteData(PathParam(req, "name"), PathParam(req, "version")));
  });
}

}  // namespace lote::server
