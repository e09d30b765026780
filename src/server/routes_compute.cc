// REST: /api/v1/computes
#include "server/http_util.h"
#include "server/server_context.h"

namespace lote::server {

void RegisterComputeRoutes(http::Router& router, ServerContext& ctx) {
  auto* reg = ctx.registry;
  router.Post("/api/v1/computes", [reg](const http::Request& req, http::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->CreateCompute(*body), 201);
  });
  router.Get("/api/v1/computes", [reg](const http::Request&, http::Response& res) {
    Reply(res, reg->ListComputes());
  });
  router.Get("/api/v1/computes/{name}", [reg](const http::Request& req, http::Response& res) {
    Reply(res, reg->GetCompute(PathParam(req, "name")));
  });
  router.Patch("/api/v1/computes/{name}", [reg](const http::Request& req, http::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->UpdateCompute(PathParam(req, "name"), *body));
  });
  router.Delete("/api/v1/computes/{name}", [reg](const http::Request& req, http::Response& res) {
    Reply(res, reg->DeleteCompute(PathParam(req, "name")));
  });
}

}  // namespace lote::server
