// The dashboard (docs/dashboard.md): static pages and assets from web/ (built
// into the binary), the one-time login (GET /login), the session API the page
// calls, and the mini-batch list its charts are drawn from.
//
// Pages are the same index.html whatever the path ("/", "/jobs/<job>"): the
// script reads location.pathname. Every page and asset goes out with a
// strict Content-Security-Policy (scripts and styles from this server only,
// no inline code), nosniff and no framing.
#include <algorithm>
#include <limits>

#include "common/util.h"
#include "server/http_util.h"
#include "server/server_context.h"
#include "server/web_assets.h"

namespace lote::server {

namespace {

using nlohmann::json;

constexpr int kDefaultMiniBatchPage = 1000;
constexpr int kMaxMiniBatchPage = 5000;
// Failed items page by mini-batch: each lists at most 100 (jobs/result_batch.h).
constexpr int kDefaultFailedItemsPage = 100;
constexpr int kMaxFailedItemsPage = 1000;

// No inline script or style anywhere: the page's code is /ui/app.js.
constexpr std::string_view kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

void SecurityHeaders(http::Response& res) {
  res.SetHeader("Content-Security-Policy", kCsp);
  res.SetHeader("X-Content-Type-Options", "nosniff");
  res.SetHeader("X-Frame-Options", "DENY");
  // The login URL carries its token: never pass a URL on to anyone.
  res.SetHeader("Referrer-Policy", "no-referrer");
}

std::string_view ContentType(std::string_view path) {
  auto ends = [&](std::string_view ext) { return path.ends_with(ext); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

const WebAsset* FindAsset(std::string_view path) {
  for (const WebAsset& a : WebAssets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

void SendAsset(http::Response& res, std::string_view path) {
  const WebAsset* asset = FindAsset(path);
  if (asset == nullptr) return SendError(res, NotFound("no dashboard file '" + std::string(path) + "'"));
  res.SetString(200, std::string(asset->body), ContentType(path));
  res.SetHeader("Cache-Control", "no-cache");  // revalidated: a new lote serves its own page
  SecurityHeaders(res);
}

// A page for a login link that cannot log in; our own words only.
void SendLoginRefused(http::Response& res, int status, std::string_view why) {
  std::string html =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lote: login link refused</title>"
      "<link rel=\"stylesheet\" href=\"/ui/app.css\"></head><body><main class=\"login-refused\">"
      "<h1>This login link cannot be used</h1><p>" +
      std::string(why) +
      "</p><p>A login link works once, within a minute. Run <code>lote dashboard</code> for a new one.</p>"
      "</main></body></html>\n";
  res.SetString(status, std::move(html), "text/html; charset=utf-8");
  res.SetHeader("Cache-Control", "no-store");
  SecurityHeaders(res);
}

std::string SessionCookie(const ServerContext& ctx, std::string_view value, int64_t max_age_s) {
  return ctx.session_cookie + "=" + std::string(value) + "; Max-Age=" + std::to_string(max_age_s) +
         "; Path=/; HttpOnly; SameSite=Strict";
}

void RegisterPages(http::Router& router) {
  auto page = [](const http::Request&, http::Response& res) {
    SendAsset(res, "index.html");
    res.SetHeader("Cache-Control", "no-store");
  };
  for (const char* path : {"/", "/jobs", "/endpoints", "/jobs/{job}"}) router.Get(path, page);
  router.Get("/ui/{path...}", [](const http::Request& req, http::Response& res) {
    std::string path = PathParam(req, "path");
    // Only web/'s own files are listed, so no path can reach anything else;
    // index.html is a page, served by the routes above.
    if (path == "index.html") return SendError(res, NotFound("no dashboard file 'index.html' under /ui/"));
    SendAsset(res, path);
  });
}

void RegisterLogin(http::Router& router, ServerContext& ctx) {
  router.Get("/login", [&ctx](const http::Request& req, http::Response& res) {
    Login login = ctx.sessions->Redeem(req.Query("token"));
    switch (login.outcome) {
      case LinkOutcome::kOk: break;
      case LinkOutcome::kUnknown:
        return SendLoginRefused(res, 403, "This is not a login link of this server (or it expired long ago).");
      case LinkOutcome::kUsed:
        return SendLoginRefused(res, 410, "This login link was already used.");
      case LinkOutcome::kExpired:
        return SendLoginRefused(res, 410, "This login link has expired.");
    }
    res.SetString(303, "", "");
    res.SetHeader("Location", login.next);
    res.SetHeader("Set-Cookie", SessionCookie(ctx, login.session_id, ctx.sessions->session_ttl_s()));
    res.SetHeader("Cache-Control", "no-store");
    SecurityHeaders(res);
  });

  // A bearer token (admin or read) asks for a link; a session may not make
  // another (Authorize refuses it).
  router.Post("/api/v1/dashboard/login-links", [&ctx](const http::Request& req, http::Response& res) {
    auto who = Identify(ctx, req);
    if (!who) return SendError(res, who.error());
    std::string next = "/";
    if (!req.body.empty()) {
      auto body = ParseJsonBody(req);
      if (!body) return SendError(res, body.error());
      for (const auto& [k, v] : body->items()) {
        if (k != "next") return SendError(res, InvalidArgument("unknown key '" + k + "' (expected next)", k));
        if (!v.is_string() || SafeNextPath(v.get<std::string>()) != v.get<std::string>()) {
          return SendError(res, InvalidArgument("next must be a dashboard path such as \"/jobs/<job>\"", "next"));
        }
        next = v.get<std::string>();
      }
    }
    std::string token = ctx.sessions->CreateLoginLink(who->read_only, next);
    SendJson(res, 201,
             {{"url", ctx.public_url + "/login?token=" + token},
              {"expires_in_s", ctx.sessions->link_ttl_s()},
              {"read_only", who->read_only},
              {"next", next}});
  });

  router.Get("/api/v1/dashboard/session", [&ctx](const http::Request& req, http::Response& res) {
    auto session = ctx.sessions->Find(CookieValue(req.HeaderValue("Cookie"), ctx.session_cookie));
    if (!session || !req.HeaderValue("Authorization").empty()) {
      return SendError(res, NotFound("this request has no dashboard session (it used a bearer token, or no "
                                     "cookie): run `lote dashboard` to log a browser in"));
    }
    SendJson(res, 200,
             {{"csrf_token", session->csrf}, {"read_only", session->read_only}, {"expires_at", session->expires_at}});
  });

  router.Post("/api/v1/dashboard/logout", [&ctx](const http::Request& req, http::Response& res) {
    ctx.sessions->End(CookieValue(req.HeaderValue("Cookie"), ctx.session_cookie));
    res.SetString(204, "", "");
    res.SetHeader("Set-Cookie", SessionCookie(ctx, "", 0));
  });
}

}  // namespace

bool IsPublicDashboardPath(std::string_view path) {
  if (path == "/" || path == "/login" || path == "/jobs" || path == "/endpoints") return true;
  if (path.starts_with("/ui/")) return path.size() > 4;
  constexpr std::string_view kJob = "/jobs/";
  if (path.starts_with(kJob)) {
    std::string_view job = path.substr(kJob.size());
    return !job.empty() && job.find('/') == std::string_view::npos;
  }
  return false;
}

void RegisterDashboardRoutes(http::Router& router, ServerContext& ctx) {
  RegisterPages(router);
  RegisterLogin(router, ctx);
  router.Get("/api/v1/jobs/{job}/mini-batches", [&ctx](const http::Request& req, http::Response& res) {
    if (auto st = CheckJobReader(ctx, req, PathParam(req, "job")); !st) return SendError(res, st.error());
    int64_t after = 0;
    int64_t limit = kDefaultMiniBatchPage;
    if (req.HasQuery("after")) {
      auto parsed = ParseInteger(req.Query("after"), "after", 0, std::numeric_limits<int64_t>::max());
      if (!parsed) return SendError(res, parsed.error());
      after = *parsed;
    }
    if (req.HasQuery("limit")) {
      auto parsed = ParseInteger(req.Query("limit"), "limit", 1, kMaxMiniBatchPage);
      if (!parsed) return SendError(res, parsed.error());
      limit = *parsed;
    }
    Reply(res, ctx.jobs->ListMiniBatches(PathParam(req, "job"), after, static_cast<int>(limit)));
  });
  // Same readers and paging (by mini-batch id) as mini-batches.
  router.Get("/api/v1/jobs/{job}/failed-items", [&ctx](const http::Request& req, http::Response& res) {
    if (auto st = CheckJobReader(ctx, req, PathParam(req, "job")); !st) return SendError(res, st.error());
    int64_t after = 0;
    int64_t limit = kDefaultFailedItemsPage;
    if (req.HasQuery("after")) {
      auto parsed = ParseInteger(req.Query("after"), "after", 0, std::numeric_limits<int64_t>::max());
      if (!parsed) return SendError(res, parsed.error());
      after = *parsed;
    }
    if (req.HasQuery("limit")) {
      auto parsed = ParseInteger(req.Query("limit"), "limit", 1, kMaxFailedItemsPage);
      if (!parsed) return SendError(res, parsed.error());
      limit = *parsed;
    }
    Reply(res, ctx.jobs->ListFailedItems(PathParam(req, "job"), after, static_cast<int>(limit)));
  });
}

}  // namespace lote::server
