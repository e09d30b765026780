// Token checks (server/tokens.h TokenSigner::Verify, server/auth.h
// Authenticate and Authorize) on any Authorization header and request line:
// what every unauthenticated client controls. Input: the header value, the
// method and the path, one per line. The signer's key, the admin token and
// the clock are fixed, so seeds hold tokens this key signed (LOTE_FUZZ_MAKE_SEEDS,
// below, writes them with the real TokenSigner::Issue).
//
// Invariants: nothing crashes or throws; every refusal is Unauthenticated or
// PermissionDenied; an unexpired token is accepted only with claims that
// Issue signed; an endpoint token may only POST its endpoint's jobs route.
// With LOTE_FUZZ_STRICT=1 also: an accepted token is exactly the token Issue
// gives for its claims (issue 9, "non-canonical base64 in the signature is
// accepted"; fuzz/pending/token).
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fuzz_util.h"
#include "server/auth.h"
#include "server/tokens.h"

using lote::fuzz::FuzzCheck;
using lote::fuzz::InputReader;
using lote::fuzz::KnownIssue;
namespace server = lote::server;

namespace {

constexpr char kKey[] = "lote-fuzz-signing-key";
constexpr char kAdmin[] = "lote-fuzz-admin-token";
constexpr int64_t kNow = 1'800'000'000;

// LOTE_FUZZ_MAKE_SEEDS=<dir>: writes seed inputs signed with kKey, then exits.
void MakeSeeds(const std::filesystem::path& dir) {
  server::TokenSigner signer(kKey);
  auto write = [&](const std::string& name, const std::string& header, const std::string& method,
                   const std::string& path) {
    std::ofstream(dir / name, std::ios::binary) << header << "\n" << method << "\n" << path;
  };
  std::string ep = signer.Issue({.endpoint = "mybatchedp", .expires_at = kNow + 3600, .job = ""});
  std::string agent = signer.Issue({.endpoint = "", .expires_at = kNow + 60, .job = "mybatchedp-20261128-1"});
  std::string expired = signer.Issue({.endpoint = "mybatchedp", .expires_at = kNow - 1, .job = ""});
  write("endpoint_invoke", "Bearer " + ep, "POST", "/api/v1/endpoints/mybatchedp/jobs");
  write("endpoint_other_route", "Bearer " + ep, "DELETE", "/api/v1/endpoints/mybatchedp");
  write("agent_lease", "Bearer " + agent, "POST", "/api/v1/jobs/mybatchedp-20261128-1/lease");
  write("agent_results", "Bearer " + agent, "POST", "/api/v1/jobs/mybatchedp-20261128-1/tasks/results");
  write("agent_other_job", "Bearer " + agent, "POST", "/api/v1/jobs/other/lease");
  write("expired", "Bearer " + expired, "POST", "/api/v1/endpoints/mybatchedp/jobs");
  write("admin", std::string("Bearer ") + kAdmin, "DELETE", "/api/v1/endpoints/mybatchedp");
  write("not_bearer", "Basic dXNlcjpwYXNz", "GET", "/api/v1/endpoints");
  std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("LOTE_FUZZ_MAKE_SEEDS")) MakeSeeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const server::TokenSigner signer(kKey);
  InputReader in(data, size);
  const std::string_view header = in.Line();
  const std::string_view method = in.Line();
  const std::string_view path = in.Line();

  auto who = server::Authenticate(header, kAdmin, signer, kNow);
  if (!who) {
    FuzzCheck(who.error().code() == lote::ErrorCode::kUnauthenticated, "not Unauthenticated: " + who.error().message());
    return 0;
  }
  if (!who->admin) {
    std::string_view token = header.substr(7);  // "Bearer "
    auto claims = signer.Verify(token, kNow);
    FuzzCheck(claims.has_value() && claims->endpoint == who->endpoint && claims->job == who->job,
              "Authenticate and Verify disagree");
    FuzzCheck(claims->expires_at > kNow, "an expired token was accepted");
    KnownIssue(signer.Issue(*claims) == token,
               "a token that Issue did not write is accepted: " + std::string(token));
  }
  auto allowed = server::Authorize(*who, method, path);
  if (!allowed) {
    FuzzCheck(allowed.error().code() == lote::ErrorCode::kPermissionDenied, "not PermissionDenied");
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
