// REST: /api/v1/computes
#include "server/http_util.h"
#include "server/server_context.h"

namespace lote::server {

void RegisterComputeRoutes(httplib::Server& http, ServerContext& ctx) {
  auto* reg = ctx.registry;
  http.Post("/api/v1/computes", [reg](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->CreateCompute(*body), 201);
  });
  http.Get("/api/v1/computes", [reg](const httplib::Request&, httplib::Response& res) {
    Reply(res, reg->ListComputes());
  });
  http.Get("/api/v1/computes/([^/]+)", [reg](const httplib::Request& req, httplib::Response& res) {
    Reply(res, reg->GetCompute(PathParam(req, 1)));
  });
  http.Patch("/api/v1/computes/([^/]+)", [reg](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->UpdateCompute(PathParam(req, 1), *body));
  });
  http.Delete("/api/v1/computes/([^/]+)", [reg](const httplib::Request& req, httplib::Response& res) {
    Reply(res, reg->DeleteCompute(PathParam(req, 1)));
  });
}

}  // namespace lote::server
