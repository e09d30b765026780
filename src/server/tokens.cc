#include "server/tokens.h"

#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/crypto.h"

namespace lote::server {
namespace {
constexpr std::string_view kPrefix = "lote1.";
Error Bad(std::string why) { return Error(ErrorCode::kUnauthenticated, "invalid token: " + why); }
}  // namespace

std::string TokenSigner::Issue(const TokenClaims& claims) const {
  nlohmann::json payload = {{"ep", claims.endpoint}, {"exp", claims.expires_at}};
  if (!claims.job.empty()) payload["job"] = claims.job;
  if (!claims.endpoint_uid.empty()) payload["uid"] = claims.endpoint_uid;
  if (!claims.scope.empty()) payload["scope"] = claims.scope;
  std::string body = Base64UrlEncode(payload.dump());
  return std::string(kPrefix) + body + "." + Base64UrlEncode(HmacSha256(key_, body));
}

Result<TokenClaims> TokenSigner::Verify(std::string_view token, int64_t now) const {
  if (!token.starts_with(kPrefix)) return Bad("not a lote token");
  token.remove_prefix(kPrefix.size());
  size_t dot = token.find('.');
  if (dot == std::string_view::npos) return Bad("malformed");
  std::string_view body = token.substr(0, dot);
  auto sig = Base64UrlDecode(token.substr(dot + 1));
  if (!sig || !ConstantTimeEquals(*sig, HmacSha256(key_, body))) return Bad("bad signature");
  auto raw = Base64UrlDecode(body);
  if (!raw) return Bad("malformed");
  try {
    auto j = nlohmann::json::parse(*raw);
    // "exp" as Issue writes it: get<int64_t>() of a float or of an unsigned
    // past 2^63 would convert (undefined for a float out of range).
    const auto& exp = j.at("exp");
    if (!exp.is_number_integer() || (exp.is_number_unsigned() && exp.get<uint64_t>() > INT64_MAX)) {
      return Bad("malformed claims");
    }
    TokenClaims c{j.at("ep").get<std::string>(), exp.get<int64_t>(), j.value("job", ""), j.value("uid", ""),
                  j.value("scope", "")};
    if (!c.scope.empty() && c.scope != "read") return Bad("unknown scope");
    if (c.expires_at <= now) return Error(ErrorCode::kUnauthenticated, "token expired");
    return c;
  } catch (const nlohmann::json::exception&) {
    return Bad("malformed claims");
  }
}

}  // namespace lote::server
