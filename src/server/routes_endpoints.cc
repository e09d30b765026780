// REST: /api/v1/endpoints, their deployments, tokens and (next issue) jobs.
#include "common/util.h"
#include "server/endpoint_delete.h"
#include "server/http_util.h"
#include "server/server_context.h"

namespace lote::server {

void RegisterEndpointRoutes(httplib::Server& http, ServerContext& ctx) {
  auto* reg = ctx.registry;
  http.Post("/api/v1/endpoints", [reg](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->CreateEndpoint(*body), 201);
  });
  http.Get("/api/v1/endpoints", [reg](const httplib::Request&, httplib::Response& res) {
    Reply(res, reg->ListEndpoints());
  });
  http.Get("/api/v1/endpoints/([^/]+)", [reg](const httplib::Request& req, httplib::Response& res) {
    Reply(res, reg->GetEndpoint(PathParam(req, 1)));
  });
  http.Patch("/api/v1/endpoints/([^/]+)", [reg](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->UpdateEndpoint(PathParam(req, 1), *body));
  });
  http.Delete("/api/v1/endpoints/([^/]+)", [reg, &ctx](const httplib::Request& req, httplib::Response& res) {
    // Refused while it has live jobs, unless ?force=true (server/endpoint_delete.h).
    const std::string force = req.get_param_value("force");
    if (!force.empty() && force != "true" && force != "false") {
      return SendError(res, InvalidArgument("force must be true or false, not '" + force + "'", "force"));
    }
    Reply(res, DeleteEndpointWithJobs(*reg, *ctx.jobs, PathParam(req, 1), force == "true"));
  });
  http.Put("/api/v1/endpoints/([^/]+)/deployments/([^/]+)",
           [reg](const httplib::Request& req, httplib::Response& res) {
             auto body = ParseJsonBody(req);
             if (!body) return SendError(res, body.error());
             std::string dep = PathParam(req, 2);
             if (body->contains("name") && (*body)["name"] != dep) {
               return SendError(res, InvalidArgument("deployment name '" +
                                                         (*body)["name"].dump() +
                                                         "' does not match the URL's '" + dep + "'",
                                                     "name"));
             }
             (*body)["name"] = dep;
             Reply(res, reg->PutDeployment(PathParam(req, 1), *body));
           });
  http.Get("/api/v1/endpoints/([^/]+)/deployments/([^/]+)",
           [reg](const httplib::Request& req, httplib::Response& res) {
             auto ep = reg->GetEndpoint(PathParam(req, 1));
             if (!ep) return SendError(res, ep.error());
             for (const auto& d : (*ep)["deployments"]) {
               if (d["name"] == PathParam(req, 2)) return SendJson(res, 200, d);
             }
             SendError(res, NotFound("deployment '" + PathParam(req, 2) + "' not found in endpoint '" +
                                     PathParam(req, 1) + "'"));
           });
  http.Delete("/api/v1/endpoints/([^/]+)/deployments/([^/]+)",
              [reg](const httplib::Request& req, httplib::Response& res) {
                Reply(res, reg->DeleteDeployment(PathParam(req, 1), PathParam(req, 2)));
              });
  http.Post("/api/v1/endpoints/([^/]+)/token",
            [reg, &ctx](const httplib::Request& req, httplib::Response& res) {
              std::string name = PathParam(req, 1);
              auto ep = reg->GetEndpoint(name);
              if (!ep) return SendError(res, ep.error());
              int64_t exp = NowUnixSeconds() + ctx.endpoint_token_ttl_s;
              SendJson(res, 200,
                       {{"accessToken", ctx.signer->Issue({.endpoint = name,
                                                           .expires_at = exp,
                                                           .job = "",
                                                           .endpoint_uid = ep->value("uid", "")})},
                        {"tokenType", "Bearer"},
                        {"expiryTimeUtc", exp},
                        {"expiresOn", FormatRfc3339(std::chrono::system_clock::from_time_t(exp))}});
            });
}

}  // namespace lote::server
