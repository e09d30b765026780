// REST: /api/v1/endpoints, their deployments and tokens.
#include "common/util.h"
#include "server/endpoint_delete.h"
#include "server/http_util.h"
#include "server/server_context.h"

namespace lote::server {

void RegisterEndpointRoutes(http::Router& router, ServerContext& ctx) {
  auto* reg = ctx.registry;
  router.Post("/api/v1/endpoints", [reg](const http::Request& req, http::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->CreateEndpoint(*body), 201);
  });
  router.Get("/api/v1/endpoints", [reg](const http::Request&, http::Response& res) {
    Reply(res, reg->ListEndpoints());
  });
  router.Get("/api/v1/endpoints/{name}", [reg](const http::Request& req, http::Response& res) {
    Reply(res, reg->GetEndpoint(PathParam(req, "name")));
  });
  router.Patch("/api/v1/endpoints/{name}", [reg](const http::Request& req, http::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    Reply(res, reg->UpdateEndpoint(PathParam(req, "name"), *body));
  });
  router.Delete("/api/v1/endpoints/{name}", [reg, &ctx](const http::Request& req, http::Response& res) {
    // Refused while it has live jobs, unless ?force=true (server/endpoint_delete.h).
    const std::string force(req.Query("force"));
    if (!force.empty() && force != "true" && force != "false") {
      return SendError(res, InvalidArgument("force must be true or false, not '" + force + "'", "force"));
    }
    Reply(res, DeleteEndpointWithJobs(*reg, *ctx.jobs, PathParam(req, "name"), force == "true"));
  });
  router.Put("/api/v1/endpoints/{name}/deployments/{deployment}",
             [reg](const http::Request& req, http::Response& res) {
               auto body = ParseJsonBody(req);
               if (!body) return SendError(res, body.error());
               std::string dep = PathParam(req, "deployment");
               if (body->contains("name") && (*body)["name"] != dep) {
                 return SendError(res, InvalidArgument("deployment name '" + (*body)["name"].dump() +
                                                           "' does not match the URL's '" + dep + "'",
                                                       "name"));
               }
               (*body)["name"] = dep;
               Reply(res, reg->PutDeployment(PathParam(req, "name"), *body));
             });
  router.Get("/api/v1/endpoints/{name}/deployments/{deployment}",
             [reg](const http::Request& req, http::Response& res) {
               auto ep = reg->GetEndpoint(PathParam(req, "name"));
               if (!ep) return SendError(res, ep.error());
               for (const auto& d : (*ep)["deployments"]) {
                 if (d["name"] == PathParam(req, "deployment")) return SendJson(res, 200, d);
               }
               SendError(res, NotFound("deployment '" + PathParam(req, "deployment") +
                                       "' not found in endpoint '" + PathParam(req, "name") + "'"));
             });
  router.Delete("/api/v1/endpoints/{name}/deployments/{deployment}",
                [reg](const http::Request& req, http::Response& res) {
                  Reply(res, reg->DeleteDeployment(PathParam(req, "name"), PathParam(req, "deployment")));
                });
  router.Post("/api/v1/endpoints/{name}/token", [reg, &ctx](const http::Request& req, http::Response& res) {
    std::string name = PathParam(req, "name");
    auto ep = reg->GetEndpoint(name);
    if (!ep) return SendError(res, ep.error());
    int64_t exp = NowUnixSeconds() + ctx.endpoint_token_ttl_s;
    SendJson(res, 200,
             {{"accessToken", ctx.signer->Issue({.endpoint = name,
                                                 .expires_at = exp,
                                                 .job = "",
                                                 .endpoint_uid = ep->value("uid", ""),
                                                 .scope = ""})},
              {"tokenType", "Bearer"},
              {"expiryTimeUtc", exp},
              {"expiresOn", FormatRfc3339(std::chrono::system_clock::from_time_t(exp))}});
  });
}

}  // namespace lote::server
