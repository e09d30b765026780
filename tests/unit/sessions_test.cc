#include "server/sessions.h"

#include <gtest/gtest.h>

#include "server/auth.h"

namespace lote::server {
namespace {

class SessionsTest : public ::testing::Test {
 protected:
  int64_t now_ = 1000;
  SessionStore store_{SessionOptions{.now = [this] { return now_; }, .link_ttl_s = 60, .session_ttl_s = 3600,
                                     .max_links = 4, .max_sessions = 3}};
};

TEST_F(SessionsTest, LinkLogsInOnceAndLandsOnItsPage) {
  std::string link = store_.CreateLoginLink(false, "/jobs/job-1");
  Login first = store_.Redeem(link);
  ASSERT_EQ(first.outcome, LinkOutcome::kOk);
  EXPECT_EQ(first.next, "/jobs/job-1");
  EXPECT_FALSE(first.session.read_only);
  EXPECT_EQ(first.session.expires_at, now_ + 3600);
  EXPECT_EQ(first.session_id.size(), 64u);
  EXPECT_EQ(first.session.csrf.size(), 64u);
  EXPECT_NE(first.session_id, first.session.csrf);
  auto found = store_.Find(first.session_id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->csrf, first.session.csrf);

  // A second visit gets no session, and says why.
  Login again = store_.Redeem(link);
  EXPECT_EQ(again.outcome, LinkOutcome::kUsed);
  EXPECT_TRUE(again.session_id.empty());
  EXPECT_EQ(store_.session_count(), 1u);
}

TEST_F(SessionsTest, ExpiredAndUnknownLinksAreRefused) {
  std::string link = store_.CreateLoginLink(false, "/");
  now_ += 60;  // its lifetime is [created, created + 60)
  EXPECT_EQ(store_.Redeem(link).outcome, LinkOutcome::kExpired);
  EXPECT_EQ(store_.Redeem("0123").outcome, LinkOutcome::kUnknown);
  EXPECT_EQ(store_.Redeem("").outcome, LinkOutcome::kUnknown);
  EXPECT_EQ(store_.session_count(), 0u);
}

TEST_F(SessionsTest, ReadTokenLinkGivesReadOnlySession) {
  Login login = store_.Redeem(store_.CreateLoginLink(true, "/"));
  ASSERT_EQ(login.outcome, LinkOutcome::kOk);
  EXPECT_TRUE(login.session.read_only);
  EXPECT_TRUE(store_.Find(login.session_id)->read_only);
}

TEST_F(SessionsTest, SessionsExpireAndEnd) {
  Login a = store_.Redeem(store_.CreateLoginLink(false, "/"));
  Login b = store_.Redeem(store_.CreateLoginLink(false, "/"));
  store_.End(a.session_id);
  EXPECT_FALSE(store_.Find(a.session_id));
  EXPECT_TRUE(store_.Find(b.session_id));
  now_ += 3600;
  EXPECT_FALSE(store_.Find(b.session_id));
  EXPECT_FALSE(store_.Find(""));
  EXPECT_FALSE(store_.Find("not-a-session"));
}

TEST_F(SessionsTest, TablesAreBounded) {
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    now_ += 1;  // each newer than the last: the oldest go first
    Login l = store_.Redeem(store_.CreateLoginLink(false, "/"));
    ASSERT_EQ(l.outcome, LinkOutcome::kOk);
    ids.push_back(l.session_id);
    EXPECT_LE(store_.session_count(), 3u);
    EXPECT_LE(store_.link_count(), 4u);
  }
  EXPECT_FALSE(store_.Find(ids.front()));
  EXPECT_TRUE(store_.Find(ids.back()));
  // Many unvisited links: still bounded, the newest still works.
  std::string last;
  for (int i = 0; i < 100; ++i) last = store_.CreateLoginLink(false, "/");
  EXPECT_LE(store_.link_count(), 4u);
  EXPECT_EQ(store_.Redeem(last).outcome, LinkOutcome::kOk);
}

TEST(SessionHelpersTest, CookieValue) {
  EXPECT_EQ(CookieValue("a=1; lote_session_80=abc; b=2", "lote_session_80"), "abc");
  EXPECT_EQ(CookieValue("lote_session_80=abc", "lote_session_8"), "");
  EXPECT_EQ(CookieValue("xlote_session_80=abc", "lote_session_80"), "");
  EXPECT_EQ(CookieValue("a=\"q\"", "a"), "q");
  EXPECT_EQ(CookieValue("", "a"), "");
  EXPECT_EQ(CookieValue(";;; =; a", "a"), "");
}

TEST(SessionHelpersTest, NextPathStaysOnThisServer) {
  EXPECT_EQ(SafeNextPath("/jobs/my-job_1.2"), "/jobs/my-job_1.2");
  EXPECT_EQ(SafeNextPath("/"), "/");
  for (const char* bad : {"", "//evil.example/x", "https://evil.example/", "jobs/x", "/\\evil", "/a?b=1",
                          "/a#b", "/a b", "/a%2f", "/\x01"}) {
    EXPECT_EQ(SafeNextPath(bad), "/") << bad;
  }
  EXPECT_EQ(SafeNextPath("/" + std::string(600, 'a')), "/");
}

TEST(SessionHelpersTest, StateChangesNeedCsrfTokenAndOwnOrigin) {
  DashboardSession s{.csrf = "secret", .read_only = false, .expires_at = 0};
  // Reads need neither.
  EXPECT_TRUE(CheckSessionRequest(s, "GET", "", "https://evil.example", "127.0.0.1:8080"));
  EXPECT_TRUE(CheckSessionRequest(s, "HEAD", "", "", "127.0.0.1:8080"));
  // A change: the token, and the server's own Origin when one is sent.
  EXPECT_TRUE(CheckSessionRequest(s, "POST", "secret", "", "127.0.0.1:8080"));
  EXPECT_TRUE(CheckSessionRequest(s, "POST", "secret", "http://127.0.0.1:8080", "127.0.0.1:8080"));
  auto no_token = CheckSessionRequest(s, "POST", "", "http://127.0.0.1:8080", "127.0.0.1:8080");
  ASSERT_FALSE(no_token);
  EXPECT_EQ(no_token.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(no_token.error().message().find("X-CSRF-Token"), std::string::npos);
  EXPECT_FALSE(CheckSessionRequest(s, "POST", "secreT", "", "127.0.0.1:8080"));
  EXPECT_FALSE(CheckSessionRequest(s, "DELETE", "", "", "127.0.0.1:8080"));
  auto other = CheckSessionRequest(s, "POST", "secret", "http://evil.example", "127.0.0.1:8080");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(other.error().message().find("Origin"), std::string::npos);
  EXPECT_FALSE(CheckSessionRequest(s, "POST", "secret", "http://127.0.0.1:9999", "127.0.0.1:8080"));
  EXPECT_FALSE(CheckSessionRequest(s, "POST", "secret", "null", "127.0.0.1:8080"));
  EXPECT_FALSE(CheckSessionRequest(s, "POST", "secret", "http://127.0.0.1:8080", ""));
}

TEST(SessionAuthorizeTest, SessionMayReadCancelAndLogOutOnly) {
  Principal admin{.admin = true, .endpoint = {}, .job = {}, .endpoint_uid = {}, .read_only = false, .session = true};
  EXPECT_TRUE(Authorize(admin, "GET", "/api/v1/jobs/j"));
  EXPECT_TRUE(Authorize(admin, "POST", "/api/v1/jobs/j/cancel"));
  EXPECT_TRUE(Authorize(admin, "POST", "/api/v1/dashboard/logout"));
  EXPECT_FALSE(Authorize(admin, "DELETE", "/api/v1/jobs/j"));
  EXPECT_FALSE(Authorize(admin, "POST", "/api/v1/endpoints"));
  EXPECT_FALSE(Authorize(admin, "POST", "/api/v1/dashboard/login-links"));
  EXPECT_FALSE(Authorize(admin, "POST", "/api/v1/tokens"));
  EXPECT_FALSE(Authorize(admin, "POST", "/api/v1/jobs/a/b/cancel"));
  EXPECT_FALSE(Authorize(admin, "POST", "/api/v1/jobs//cancel"));

  Principal reader = admin;
  reader.admin = false;
  reader.read_only = true;
  EXPECT_TRUE(Authorize(reader, "GET", "/api/v1/jobs"));
  auto cancel = Authorize(reader, "POST", "/api/v1/jobs/j/cancel");
  ASSERT_FALSE(cancel);
  EXPECT_EQ(cancel.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(cancel.error().message().find("read-only"), std::string::npos);
}

TEST(SessionAuthorizeTest, ReadTokenMayMakeLoginLinksOnly) {
  Principal reader{.admin = false, .endpoint = {}, .job = {}, .endpoint_uid = {}, .read_only = true, .session = false};
  EXPECT_TRUE(Authorize(reader, "POST", "/api/v1/dashboard/login-links"));
  EXPECT_FALSE(Authorize(reader, "POST", "/api/v1/jobs/j/cancel"));
  Principal endpoint{.admin = false, .endpoint = "ep", .job = {}, .endpoint_uid = "u", .read_only = false,
                     .session = false};
  EXPECT_FALSE(Authorize(endpoint, "POST", "/api/v1/dashboard/login-links"));
}

}  // namespace
}  // namespace lote::server
