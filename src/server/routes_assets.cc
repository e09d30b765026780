// REST: /api/v1/models and /api/v1/data (named, versioned assets).
#include "server/http_util.h"
#include "server/server_context.h"

namespace lote::server {

void RegisterModelRoutes(httplib::Server& http, ServerContext& ctx) {
  auto* reg = ctx.registry;
  http.Post("/api/v1/models", [reg](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->CreateModel(*body), 201);
  });
  http.Get("/api/v1/models", [reg](const httplib::Request& req, httplib::Response& res) {
    Reply(res, reg->ListModels(req.get_param_value("name")));
  });
  http.Get("/api/v1/models/([^/]+)/versions", [reg](const httplib::Request& req, httplib::Response& res) {
    Reply(res, reg->ListModels(PathParam(req, 1)));
  });
  http.Get("/api/v1/models/([^/]+)/versions/([^/]+)",
           [reg](const httplib::Request& req, httplib::Response& res) {
             Reply(res, reg->GetModel(PathParam(req, 1), PathParam(req, 2)));
           });
  http.Delete("/api/v1/models/([^/]+)/versions/([^/]+)",
              [reg](const httplib::Request& req, httplib::Response& res) {
                Reply(res, reg->DeleteModel(PathParam(req, 1), PathParam(req, 2)));
              });
}

void RegisterDataRoutes(httplib::Server& http, ServerContext& ctx) {
  auto* reg = ctx.registry;
  http.Post("/api/v1/data", [reg](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->CreateData(*body), 201);
  });
  http.Get("/api/v1/data", [reg](const httplib::Request& req, httplib::Response& res) {
    Reply(res, reg->ListData(req.get_param_value("name")));
  });
  http.Get("/api/v1/data/([^/]+)/versions", [reg](const httplib::Request& req, httplib::Response& res) {
    Reply(res, reg->ListData(PathParam(req, 1)));
  });
  http.Get("/api/v1/data/([^/]+)/versions/([^/]+)",
           [reg](const httplib::Request& req, httplib::Response& res) {
             Reply(res, reg->GetData(PathParam(req, 1), PathParam(req, 2)));
           });
  http.Delete("/api/v1/data/([^/]+)/versions/([^/]+)",
              [reg](const httplib::Request& req, httplib::Response& res) {
                Reply(res, reg->DeleteData(PathParam(req, 1), PathParam(req, 2)));
              });
}

}  // namespace lote::server
