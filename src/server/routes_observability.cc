// GET /metrics: Prometheus' text format, for the admin or a read token.
// POST /api/v1/tokens {"scope": "read", "expires_in_s": N}: a read token
// (admin only: the gate lets no other principal POST here).
#include "common/util.h"
#include "server/http_util.h"
#include "server/server_context.h"

namespace lote::server {

namespace {

constexpr int64_t kDefaultReadTokenTtl = 30 * 24 * 3600;
constexpr int64_t kMaxReadTokenTtl = 366 * 24 * 3600;

}  // namespace

void RegisterObservabilityRoutes(http::Router& router, ServerContext& ctx) {
  router.Get("/metrics", [&ctx](const http::Request&, http::Response& res) {
    if (ctx.metrics == nullptr) return SendError(res, Internal("metrics are not collected"));
    res.SetString(200, ctx.metrics->registry().Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  // What the home holds (lote system df): the admin or a read token.
  router.Get("/api/v1/system/df", [&ctx](const http::Request&, http::Response& res) {
    Reply(res, ctx.jobs->DiskUsage());
  });
  router.Post("/api/v1/tokens", [&ctx](const http::Request& req, http::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body) return SendError(res, body.error());
    if (!body->is_object()) return SendError(res, InvalidArgument("a token request must be a JSON object"));
    for (const auto& [k, v] : body->items()) {
      if (k != "scope" && k != "expires_in_s") {
        return SendError(res, InvalidArgument("unknown key '" + k + "' (expected scope, expires_in_s)", k));
      }
    }
    const auto scope = body->value("scope", nlohmann::json("read"));
    if (!scope.is_string() || scope != "read") {
      return SendError(res, InvalidArgument("scope must be \"read\" (the admin token does everything else; "
                                            "endpoint tokens come from POST /api/v1/endpoints/<name>/token)",
                                            "scope"));
    }
    int64_t ttl = kDefaultReadTokenTtl;
    if (body->contains("expires_in_s")) {
      const auto& v = (*body)["expires_in_s"];
      if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > kMaxReadTokenTtl) {
        return SendError(res, InvalidArgument("expires_in_s must be a whole number of seconds from 1 to " +
                                                  std::to_string(kMaxReadTokenTtl),
                                              "expires_in_s"));
      }
      ttl = v.get<int64_t>();
    }
    int64_t exp = NowUnixSeconds() + ttl;
    SendJson(res, 201,
             {{"accessToken", ctx.signer->Issue({.endpoint = "", .expires_at = exp, .job = "", .endpoint_uid = "",
                                                 .scope = "read"})},
              {"tokenType", "Bearer"},
              {"scope", "read"},
              {"expiryTimeUtc", exp},
              {"expiresOn", FormatRfc3339(std::chrono::system_clock::from_time_t(exp))}});
  });
}

}  // namespace lote::server
