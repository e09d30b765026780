#include "server/auth.h"

#include <gtest/gtest.h>

namespace lote::server {
namespace {

class AuthTest : public ::testing::Test {
 protected:
  TokenSigner signer_{"key"};
  const std::string admin_ = std::string(64, 'a');
  Result<Principal> Who(const std::string& header) { return Authenticate(header, admin_, signer_, 100); }
};

TEST_F(AuthTest, AdminMayCallAnything) {
  auto who = Who("Bearer " + admin_);
  ASSERT_TRUE(who);
  EXPECT_TRUE(Authorize(*who, "DELETE", "/api/v1/endpoints/x"));
}

TEST_F(AuthTest, MissingOrMalformedHeaderIsUnauthenticated) {
  EXPECT_EQ(Who("").error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Who("Basic abc").error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Who("Bearer nope").error().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Who("Bearer " + std::string(64, 'b')).error().code(), ErrorCode::kUnauthenticated);
}

TEST_F(AuthTest, EndpointTokenMayOnlyInvokeItsEndpoint) {
  auto who = Who("Bearer " + signer_.Issue({.endpoint = "ep", .expires_at = 200, .job = ""}));
  ASSERT_TRUE(who);
  EXPECT_TRUE(Authorize(*who, "POST", "/api/v1/endpoints/ep/jobs"));
  EXPECT_EQ(Authorize(*who, "POST", "/api/v1/endpoints/other/jobs").error().code(), ErrorCode::kPermissionDenied);
  EXPECT_FALSE(Authorize(*who, "GET", "/api/v1/endpoints/ep"));
  EXPECT_FALSE(Authorize(*who, "POST", "/api/v1/jobs/j/lease"));
}

TEST_F(AuthTest, AgentTokenMayOnlyCallItsJobsAgentApi) {
  auto who = Who("Bearer " + signer_.Issue({.endpoint = "", .expires_at = 200, .job = "j1"}));
  ASSERT_TRUE(who);
  EXPECT_TRUE(Authorize(*who, "GET", "/api/v1/jobs/j1/agent-config"));
  EXPECT_TRUE(Authorize(*who, "POST", "/api/v1/jobs/j1/lease"));
  EXPECT_TRUE(Authorize(*who, "POST", "/api/v1/jobs/j1/tasks/3/result"));
  EXPECT_FALSE(Authorize(*who, "POST", "/api/v1/jobs/j2/lease"));
  EXPECT_FALSE(Authorize(*who, "POST", "/api/v1/jobs/j1/cancel"));
  EXPECT_FALSE(Authorize(*who, "GET", "/api/v1/endpoints"));
  EXPECT_FALSE(Authorize(*who, "POST", "/api/v1/endpoints//jobs"));
}

}  // namespace
}  // namespace lote::server
