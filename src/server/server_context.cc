#include "server/server_context.h"

#include "common/util.h"
#include "server/auth.h"

namespace lote::server {

Status CheckInvoker(const ServerContext& ctx, const http::Request& req) {
  LOTE_ASSIGN_OR_RETURN(Principal who,
                        VerifyToken(req.HeaderValue("Authorization"), ctx.admin_token, *ctx.signer, NowUnixSeconds()));
  return CheckEndpointIdentity(who, [&ctx](const std::string& endpoint) { return ctx.registry->EndpointUid(endpoint); });
}

}  // namespace lote::server
