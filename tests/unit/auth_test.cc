#include "server/auth.h"

#include <gtest/gtest.h>

#include <map>

namespace lote::server {
namespace {

class AuthTest : public ::testing::Test {
 protected:
  TokenSigner signer_{"key"};
  const std::string admin_ = std::string(64, 'a');
  // Endpoints as they are now: name -> uid.
  std::map<std::string, std::string> endpoints_ = {{"ep", "uid-1"}, {"other", "uid-9"}};
  Result<Principal> Who(const std::string& header) {
    return Authenticate(header, admin_, signer_, 100, [this](const std::string& name) -> Result<std::string> {
      auto it = endpoints_.find(name);
      if (it == endpoints_.end()) return NotFound("endpoint '" + name + "' not found");
      return it->second;
    });
  }
  std::string EndpointToken(const std::string& name, const std::string& uid) {
    return "Bearer " + signer_.Issue({.endpoint = name, .expires_at = 200, .job = "", .endpoint_uid = uid, .scope = ""});
  }
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
  auto who = Who(EndpointToken("ep", "uid-1"));
  ASSERT_TRUE(who);
  EXPECT_TRUE(Authorize(*who, "POST", "/api/v1/endpoints/ep/jobs"));
  EXPECT_EQ(Authorize(*who, "POST", "/api/v1/endpoints/other/jobs").error().code(), ErrorCode::kPermissionDenied);
  EXPECT_FALSE(Authorize(*who, "GET", "/api/v1/endpoints/ep"));
  EXPECT_FALSE(Authorize(*who, "POST", "/api/v1/jobs/j/lease"));
}

// Reading jobs passes the gate by shape only: the routes then check that
// the job is the token's endpoint's (CheckJobReader, tests/e2e/test_rest_ga.py).
TEST_F(AuthTest, EndpointTokenMayReadJobsButNotChangeOrListThem) {
  auto who = Who(EndpointToken("ep", "uid-1"));
  ASSERT_TRUE(who);
  for (const char* path : {"/api/v1/jobs/j", "/api/v1/jobs/j/log", "/api/v1/jobs/j/files",
                           "/api/v1/jobs/j/files/predictions.csv", "/api/v1/jobs/j/files/a/b.txt"}) {
    EXPECT_TRUE(Authorize(*who, "GET", path)) << path;
    EXPECT_FALSE(Authorize(*who, "POST", path)) << path;
    EXPECT_FALSE(Authorize(*who, "DELETE", path)) << path;
  }
  for (const char* path : {"/api/v1/jobs", "/api/v1/jobs/", "/api/v1/jobs//log", "/api/v1/jobs/j/agent-config",
                           "/api/v1/jobs/j/artifacts", "/api/v1/jobs/j/blobs/abc", "/api/v1/jobs/j/node-logs/x",
                           "/api/v1/jobs/j/tasks/1/items/0", "/api/v1/jobs/j/log/", "/api/v1/jobs/j/filesx",
                           "/api/v1/endpoints/ep/jobs", "/api/v1/jobsx/j"}) {
    EXPECT_EQ(Authorize(*who, "GET", path).error().code(), ErrorCode::kPermissionDenied) << path;
  }
  EXPECT_FALSE(Authorize(*who, "POST", "/api/v1/jobs/j/cancel"));
}

TEST_F(AuthTest, AgentTokenMayOnlyCallItsJobsAgentApi) {
  auto who = Who("Bearer " + signer_.Issue({.endpoint = "", .expires_at = 200, .job = "j1", .endpoint_uid = "", .scope = ""}));
  ASSERT_TRUE(who);
  EXPECT_TRUE(Authorize(*who, "GET", "/api/v1/jobs/j1/agent-config"));
  EXPECT_TRUE(Authorize(*who, "POST", "/api/v1/jobs/j1/lease"));
  EXPECT_TRUE(Authorize(*who, "POST", "/api/v1/jobs/j1/tasks/3/result"));
  EXPECT_FALSE(Authorize(*who, "POST", "/api/v1/jobs/j2/lease"));
  EXPECT_FALSE(Authorize(*who, "POST", "/api/v1/jobs/j1/cancel"));
  EXPECT_FALSE(Authorize(*who, "GET", "/api/v1/endpoints"));
  EXPECT_FALSE(Authorize(*who, "POST", "/api/v1/endpoints//jobs"));
}

TEST_F(AuthTest, EndpointTokenDiesWithItsEndpoint) {
  const std::string token = EndpointToken("ep", "uid-1");
  ASSERT_TRUE(Who(token));
  // Deleted: the token names an endpoint that no longer exists.
  endpoints_.erase("ep");
  auto gone = Who(token);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(gone.error().message().find("token is for an endpoint 'ep' that no longer exists"), std::string::npos)
      << gone.error().message();
  // Created again under the same name: a new uid, the old token stays dead.
  endpoints_["ep"] = "uid-2";
  EXPECT_EQ(Who(token).error().code(), ErrorCode::kUnauthenticated);
  EXPECT_TRUE(Who(EndpointToken("ep", "uid-2")));
  // A token from before uids existed carries none: refused.
  EXPECT_EQ(Who(EndpointToken("ep", "")).error().code(), ErrorCode::kUnauthenticated);
}

TEST_F(AuthTest, EndpointTokensNeedALookupAndLookupFailuresPropagate) {
  const std::string token = EndpointToken("ep", "uid-1");
  auto no_lookup = Authenticate(token, admin_, signer_, 100, nullptr);
  ASSERT_FALSE(no_lookup);
  EXPECT_EQ(no_lookup.error().code(), ErrorCode::kUnauthenticated);
  auto broken = Authenticate(token, admin_, signer_, 100,
                             [](const std::string&) -> Result<std::string> { return Internal("store down"); });
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code(), ErrorCode::kInternal);
  // Admin and agent tokens need no lookup.
  EXPECT_TRUE(Authenticate("Bearer " + admin_, admin_, signer_, 100, nullptr));
  EXPECT_TRUE(Authenticate("Bearer " + signer_.Issue({.endpoint = "", .expires_at = 200, .job = "j", .endpoint_uid = "", .scope = ""}),
                           admin_, signer_, 100, nullptr));
}

}  // namespace
}  // namespace lote::server
