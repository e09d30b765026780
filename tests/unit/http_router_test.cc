#include "http/router.h"

#include <gtest/gtest.h>

#include "http/url.h"

namespace lote::http {
namespace {

Handler Noop() {
  return [](const Request&, Response&) {};
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.Get("/api/v1/models/{name}/versions", Noop());
    router_.Get("/api/v1/models/{name}/versions/{version}", Noop());
    router_.Post("/api/v1/jobs/{job}/tasks/{task}/fail", Noop());
    router_.AddStream("POST", "/api/v1/jobs/{job}/tasks/results",
                      [](const Request&) -> Result<std::unique_ptr<BodySink>> { return NotFound("x"); });
    router_.Get("/api/v1/datastores/{name}/files/{path...}", Noop());
    router_.Get("/api/v1/health", Noop());
  }

  std::string PatternOf(std::string_view method, std::string_view path) {
    auto m = router_.Find(method, path);
    return m ? m->route->pattern : "error: " + m.error().message();
  }

  Router router_;
};

TEST_F(RouterTest, MatchesLiteralsAndCapturesSegmentBySegment) {
  EXPECT_EQ(PatternOf("GET", "/api/v1/health"), "/api/v1/health");
  EXPECT_EQ(PatternOf("GET", "/api/v1/models/autolog/versions"), "/api/v1/models/{name}/versions");
  auto m = router_.Find("GET", "/api/v1/models/autolog/versions/3");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->params.size(), 2u);
  EXPECT_EQ(m->params[0], (std::pair<std::string, std::string>{"name", "autolog"}));
  EXPECT_EQ(m->params[1], (std::pair<std::string, std::string>{"version", "3"}));
  EXPECT_EQ(PatternOf("POST", "/api/v1/jobs/j1/tasks/results"), "/api/v1/jobs/{job}/tasks/results");
  EXPECT_TRUE(router_.Find("POST", "/api/v1/jobs/j1/tasks/results")->route->streamed());
  EXPECT_EQ(PatternOf("POST", "/api/v1/jobs/j1/tasks/7/fail"), "/api/v1/jobs/{job}/tasks/{task}/fail");
}

TEST_F(RouterTest, UnknownPathsMethodsAndEmptyCapturesAreNotFound) {
  for (auto [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/v1/nothing"},
           {"POST", "/api/v1/health"},             // the path exists, not with this method
           {"GET", "/api/v1/health/"},             // a trailing slash is another path
           {"GET", "/api/v1/models//versions"},    // an empty capture
           {"GET", "/api/v1/models/a/versions/3/x"},
           {"GET", "api/v1/health"},               // not origin-form
           {"GET", ""},
           {"GET", "/api/v1/datastores/ds/files"}, // a rest capture needs something
       }) {
    auto m = router_.Find(method, path);
    ASSERT_FALSE(m) << method << " " << path;
    EXPECT_EQ(m.error().code(), ErrorCode::kNotFound);
    EXPECT_EQ(m.error().message(), "no route for " + method + " " + path);
  }
}

TEST_F(RouterTest, CapturesAreDecodedAfterTheSplit) {
  auto m = router_.Find("GET", "/api/v1/models/a%2Fb%20c/versions");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params[0].second, "a/b c");  // an escaped slash stays inside its capture
  // Literal segments are compared as sent.
  EXPECT_FALSE(router_.Find("GET", "/api/v1/%6Dodels/a/versions"));
}

TEST_F(RouterTest, RestCaptureKeepsSlashesAndDecodes) {
  auto m = router_.Find("GET", "/api/v1/datastores/ds/files/dir/sub%2Fx/a%20b.csv");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params[1], (std::pair<std::string, std::string>{"path", "dir/sub/x/a b.csv"}));
  // "files//tmp/x" captures an absolute path: the datastore refuses it, the router does not hide it.
  m = router_.Find("GET", "/api/v1/datastores/ds/files//tmp/x");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params[1].second, "/tmp/x");
  m = router_.Find("GET", "/api/v1/datastores/ds/files/..%2F..%2Fetc");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params[1].second, "../../etc");
}

TEST_F(RouterTest, MalformedEscapesAndNulAreInvalidArgument) {
  for (std::string path : {"/api/v1/models/a%zz/versions", "/api/v1/models/a%2/versions",
                           "/api/v1/models/a%00b/versions", "/api/v1/datastores/ds/files/x%"}) {
    auto m = router_.Find("GET", path);
    ASSERT_FALSE(m) << path;
    EXPECT_EQ(m.error().code(), ErrorCode::kInvalidArgument) << path;
    EXPECT_NE(m.error().message().find("malformed %-escape"), std::string::npos);
  }
}

TEST_F(RouterTest, HugePathsAreMatchedWithoutRecursion) {
  std::string rest(200000, 'a');
  for (size_t i = 100; i < rest.size(); i += 100) rest[i] = '/';
  auto m = router_.Find("GET", "/api/v1/datastores/ds/files/" + rest);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params[1].second, rest);
  EXPECT_FALSE(router_.Find("GET", "/" + std::string(100000, '/')));
}

TEST(UrlTest, PercentDecode) {
  EXPECT_EQ(PercentDecode("a%20b%2F%41"), "a b/A");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("%e9"), "\xe9");  // bytes, not necessarily UTF-8
  EXPECT_FALSE(PercentDecode("%"));
  EXPECT_FALSE(PercentDecode("%4"));
  EXPECT_FALSE(PercentDecode("%g0"));
  EXPECT_FALSE(PercentDecode("a%00"));
}

TEST(UrlTest, SplitsTheTargetAndParsesTheQuery) {
  auto [path, query] = SplitTarget("/api/v1/jobs/j/log?offset=12&x=a%20b+c&flag&=v&&");
  EXPECT_EQ(path, "/api/v1/jobs/j/log");
  auto q = ParseQuery(query);
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"offset", "12"}));
  EXPECT_EQ(q[1], (std::pair<std::string, std::string>{"x", "a b c"}));
  EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(q[3], (std::pair<std::string, std::string>{"", "v"}));
  EXPECT_EQ(ParseQuery("bad=%zz")[0].second, "%zz");  // kept as sent
  EXPECT_EQ(SplitTarget("/a").second, "");
}

TEST(RequestTest, HeadersAreCaseInsensitive) {
  Request req;
  req.headers = {{"Content-Length", "5"}, {"authorization", "Bearer x"}};
  EXPECT_EQ(req.HeaderValue("content-length"), "5");
  EXPECT_EQ(req.HeaderValue("AUTHORIZATION"), "Bearer x");
  EXPECT_TRUE(req.HasHeader("Authorization"));
  EXPECT_FALSE(req.HasHeader("Transfer-Encoding"));
  EXPECT_EQ(req.HeaderValue("Transfer-Encoding"), "");
}

}  // namespace
}  // namespace lote::http

namespace lote::http {
namespace {

TEST(RouterRootTest, RootPatternMatchesOnlyTheRoot) {
  Router router;
  router.Get("/", Noop());
  router.Get("/jobs/{job}", Noop());
  auto root = router.Find("GET", "/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->route->pattern, "/");
  EXPECT_FALSE(router.Find("GET", "//"));
  EXPECT_FALSE(router.Find("GET", ""));
  EXPECT_FALSE(router.Find("GET", "/x"));
  EXPECT_FALSE(router.Find("GET", "/jobs/"));
  EXPECT_TRUE(router.Find("GET", "/jobs/j"));
}

}  // namespace
}  // namespace lote::http
