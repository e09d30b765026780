// Token checks (server/tokens.h TokenSigner::Verify; server/auth.h
// VerifyToken, CheckEndpointIdentity, Authenticate and Authorize) on any
// Authorization header and request line: what every unauthenticated client
// controls. Input: the header value, the method and the path, one per line.
// A header "SIGN <claims>" is replaced by a token whose claims are those
// bytes, signed with the fixture's key: claims no client can forge, but a
// bug in Issue or a future claim could produce (the parser must hold there
// too). The key, the admin token, the clock and the endpoints (name -> uid,
// as the store would answer) are fixed; seeds hold tokens this key signed
// (LOTE_FUZZ_MAKE_SEEDS, below, writes them with the real TokenSigner::Issue).
//
// Invariants: nothing crashes or throws; every refusal is Unauthenticated or
// PermissionDenied, or the lookup's own error; VerifyToken then
// CheckEndpointIdentity is Authenticate; an accepted token is unexpired,
// carries exactly the claims Verify reads, and (outside SIGN) is exactly the
// token Issue writes for them (base64url is strict: no other spelling
// verifies); an endpoint token is accepted only while its endpoint has the
// uid it was issued for, and never without a lookup; an endpoint token may
// only POST its endpoint's jobs route, an agent token only its own job's
// agent API.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/crypto.h"
#include "fuzz_util.h"
#include "server/auth.h"
#include "server/tokens.h"

using lote::fuzz::FuzzCheck;
using lote::fuzz::InputReader;
namespace server = lote::server;
using lote::ErrorCode;

namespace {

constexpr char kKey[] = "lote-fuzz-signing-key";
constexpr char kAdmin[] = "lote-fuzz-admin-token";
constexpr int64_t kNow = 1'800'000'000;

// The endpoints as they are now. "broken" fails its lookup as a store might.
lote::Result<std::string> LookupUid(const std::string& endpoint) {
  static const std::map<std::string, std::string> kEndpoints = {{"mybatchedp", "uid-1"}, {"other", "uid-9"}};
  if (endpoint == "broken") return lote::Error(ErrorCode::kUnavailable, "the store is busy");
  auto it = kEndpoints.find(endpoint);
  if (it == kEndpoints.end()) return lote::NotFound("endpoint '" + endpoint + "' not found");
  return it->second;
}

std::string SignClaims(std::string_view claims) {
  std::string body = lote::Base64UrlEncode(claims);
  return "lote1." + body + "." + lote::Base64UrlEncode(lote::HmacSha256(kKey, body));
}

// LOTE_FUZZ_MAKE_SEEDS=<dir>: writes seed inputs signed with kKey, then exits.
void MakeSeeds(const std::filesystem::path& dir) {
  server::TokenSigner signer(kKey);
  auto write = [&](const std::string& name, const std::string& header, const std::string& method,
                   const std::string& path) {
    std::ofstream(dir / name, std::ios::binary) << header << "\n" << method << "\n" << path;
  };
  auto endpoint = [&](const std::string& name, const std::string& uid, int64_t expires) {
    return "Bearer " + signer.Issue({.endpoint = name, .expires_at = expires, .job = "", .endpoint_uid = uid, .scope = ""});
  };
  std::string ep = endpoint("mybatchedp", "uid-1", kNow + 3600);
  std::string agent = "Bearer " + signer.Issue({.endpoint = "", .expires_at = kNow + 60,
                                                .job = "mybatchedp-20261128-1", .endpoint_uid = "", .scope = ""});
  write("endpoint_invoke", ep, "POST", "/api/v1/endpoints/mybatchedp/jobs");
  write("endpoint_other_route", ep, "DELETE", "/api/v1/endpoints/mybatchedp");
  write("endpoint_replaced", endpoint("mybatchedp", "uid-0", kNow + 3600), "POST", "/api/v1/endpoints/mybatchedp/jobs");
  write("endpoint_without_uid", endpoint("mybatchedp", "", kNow + 3600), "POST", "/api/v1/endpoints/mybatchedp/jobs");
  write("endpoint_deleted", endpoint("gone", "uid-5", kNow + 3600), "POST", "/api/v1/endpoints/gone/jobs");
  write("endpoint_lookup_fails", endpoint("broken", "uid-2", kNow + 3600), "POST", "/api/v1/endpoints/broken/jobs");
  write("agent_lease", agent, "POST", "/api/v1/jobs/mybatchedp-20261128-1/lease");
  write("agent_results", agent, "POST", "/api/v1/jobs/mybatchedp-20261128-1/tasks/results");
  write("agent_other_job", agent, "POST", "/api/v1/jobs/other/lease");
  write("expired", endpoint("mybatchedp", "uid-1", kNow - 1), "POST", "/api/v1/endpoints/mybatchedp/jobs");
  write("admin", std::string("Bearer ") + kAdmin, "DELETE", "/api/v1/endpoints/mybatchedp");
  write("not_bearer", "Basic dXNlcjpwYXNz", "GET", "/api/v1/endpoints");
  write("signed_odd_claims", R"(SIGN {"ep":"mybatchedp","exp":1.9e9,"job":["x"],"uid":"uid-1"})", "POST",
        "/api/v1/endpoints/mybatchedp/jobs");
  write("signed_agent_claims", R"(SIGN {"ep":"","exp":1800000100,"job":"j/../other"})", "POST",
        "/api/v1/jobs/j/../other/lease");
  std::exit(0);
}

bool Same(const server::Principal& a, const server::Principal& b) {
  return a.admin == b.admin && a.endpoint == b.endpoint && a.job == b.job && a.endpoint_uid == b.endpoint_uid;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("LOTE_FUZZ_MAKE_SEEDS")) MakeSeeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const server::TokenSigner signer(kKey);
  static const server::EndpointUidLookup lookup = LookupUid;
  InputReader in(data, size);
  std::string header(in.Line());
  const std::string_view method = in.Line();
  const std::string_view path = in.Line();
  const bool signed_here = header.starts_with("SIGN ");
  if (signed_here) header = "Bearer " + SignClaims(std::string_view(header).substr(5));

  auto verified = server::VerifyToken(header, kAdmin, signer, kNow);
  auto who = server::Authenticate(header, kAdmin, signer, kNow, lookup);
  if (!verified) {
    FuzzCheck(verified.error().code() == ErrorCode::kUnauthenticated,
              "VerifyToken: not Unauthenticated: " + verified.error().message());
    FuzzCheck(!who && who.error().code() == ErrorCode::kUnauthenticated,
              "Authenticate accepts what VerifyToken refuses");
    return 0;
  }
  const server::Principal& v = *verified;
  const bool endpoint_token = !v.admin && v.job.empty();
  // Authenticate is VerifyToken, then the endpoint's identity.
  auto identity = server::CheckEndpointIdentity(v, lookup);
  FuzzCheck(identity.has_value() == who.has_value(), "Authenticate disagrees with VerifyToken + CheckEndpointIdentity");
  FuzzCheck(!endpoint_token || !server::CheckEndpointIdentity(v, {}), "an endpoint token passes without a lookup");
  if (endpoint_token) {
    auto uid = LookupUid(v.endpoint);
    const bool current = uid && !v.endpoint_uid.empty() && *uid == v.endpoint_uid;
    FuzzCheck(who.has_value() == current, "an endpoint token of endpoint '" + v.endpoint + "' (uid '" +
                                              v.endpoint_uid + "') is " + (current ? "refused" : "accepted") +
                                              " although the endpoint's uid is " +
                                              (uid ? "'" + *uid + "'" : "unknown"));
    if (!who) {
      const ErrorCode expected = uid || uid.error().code() == ErrorCode::kNotFound ? ErrorCode::kUnauthenticated
                                                                                 : uid.error().code();
      FuzzCheck(who.error().code() == expected, "a stale endpoint token: wrong error: " + who.error().message());
      return 0;
    }
  } else {
    FuzzCheck(who.has_value(), "an admin or agent token that verifies is refused: " +
                                   (who ? std::string() : who.error().message()));
  }
  FuzzCheck(Same(*who, v), "Authenticate and VerifyToken name different principals");

  if (!who->admin) {
    std::string_view token = std::string_view(header).substr(7);  // "Bearer "
    auto claims = signer.Verify(token, kNow);
    FuzzCheck(claims.has_value() && claims->endpoint == who->endpoint && claims->job == who->job &&
                  claims->endpoint_uid == who->endpoint_uid,
              "Authenticate and Verify disagree");
    FuzzCheck(claims->expires_at > kNow, "an expired token was accepted");
    FuzzCheck(signed_here || signer.Issue(*claims) == token,
              "a token that Issue did not write is accepted: " + std::string(token));
  }
  auto allowed = server::Authorize(*who, method, path);
  if (!allowed) {
    FuzzCheck(allowed.error().code() == ErrorCode::kPermissionDenied, "not PermissionDenied");
    return 0;
  }
  if (!who->admin && who->job.empty()) {
    FuzzCheck(method == "POST" && path == "/api/v1/endpoints/" + who->endpoint + "/jobs",
              "an endpoint token may call " + std::string(method) + " " + std::string(path));
  }
  if (!who->admin && !who->job.empty()) {
    FuzzCheck(path.starts_with("/api/v1/jobs/" + who->job + "/"),
              "an agent token may call another job's route: " + std::string(path));
  }
  return 0;
}
