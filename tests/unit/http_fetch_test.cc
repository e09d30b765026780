// URL inputs: the index-page scanner on hostile pages, the host policy, and
// the fetch limits against real loopback sockets (a peer that accepts and
// never answers, one that redirects forever or elsewhere, pages over the cap).
#include "storage/http_fetch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "common/util.h"
#include "storage/url_policy.h"

namespace lote::storage {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// --- the index scanner ---------------------------------------------------------

TEST(IndexLinksTest, ReadsQuotedSingleQuotedAndBareHrefs) {
  const std::string page = R"(<html><a href="a.csv">a</a> <A HREF='b.csv'>b</A>
    <a href=c.csv>c</a><a  href = "d%20e.csv" >d</a>
    <a href="?C=N;O=D">sort</a><a href="../">up</a><a href="sub/">sub</a><a href="#top">t</a>
    <a href="sub/deep.csv">deep</a><a href="/elsewhere/x.csv">abs</a>
    <a href="http://other.example/x.csv">other</a><a data-href="no.csv">x</a>
    <a href="./f.csv">f</a><a href="http://h:1/dir/g.csv">g</a>)";
  auto links = ParseIndexLinks(page, "http://h:1/dir/", 4096);
  ASSERT_TRUE(links) << links.error().message();
  EXPECT_EQ(*links, (std::vector<std::string>{"http://h:1/dir/a.csv", "http://h:1/dir/b.csv",
                                              "http://h:1/dir/c.csv", "http://h:1/dir/d%20e.csv",
                                              "http://h:1/dir/f.csv", "http://h:1/dir/g.csv"}));
}

// Found by fuzz/index_links: "." and its escapes named the folder itself
// (its index page was then downloaded as a data file), "%2e%2e" its parent,
// "a%2Fb.csv" a file in a sub-folder, and "%00" a name the planner cannot
// create. Only names that stay one file name once decoded are files.
TEST(IndexLinksTest, LinksToTheFolderItselfItsParentOrASubfolderAreNotFiles) {
  const std::string page =
      R"(<a href=".">self</a><a href="./.">self</a><a href="%2e">self</a><a href="%2E%2e">up</a>
         <a href="a%2Fb.csv">sub</a><a href="a%2fb.csv">sub</a><a href="n%00ul.csv">nul</a>
         <a href="http://h/dir/.">self</a><a href="ok%20.csv">ok</a><a href="%2e%2e.csv">dots</a>)";
  auto links = ParseIndexLinks(page, "http://h/dir/", 4096);
  ASSERT_TRUE(links) << links.error().message();
  EXPECT_EQ(*links, (std::vector<std::string>{"http://h/dir/%2e%2e.csv", "http://h/dir/ok%20.csv"}));
}

TEST(IndexLinksTest, AHugeHrefIsAnErrorNotACrash) {
  // std::regex's recursive matcher overflowed the stack on this (issue 9).
  std::string page = "<a href=\"" + std::string(200 * 1024, 'x') + "\">x</a>";
  auto links = ParseIndexLinks(page, "http://h/dir/", 4096);
  ASSERT_FALSE(links);
  EXPECT_EQ(links.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(links.error().message().find("204800 bytes, over the 4096-byte limit"), std::string::npos)
      << links.error().message();
  // Unterminated and unquoted giants too.
  EXPECT_FALSE(ParseIndexLinks("<a href=\"" + std::string(100000, 'y'), "http://h/d/", 4096));
  EXPECT_FALSE(ParseIndexLinks("<a href=" + std::string(100000, 'z') + ">", "http://h/d/", 4096));
}

TEST(IndexLinksTest, HostilePagesEndQuickly) {
  // Many "href" with nothing after, quotes never closed, NULs: linear, no crash.
  std::string page;
  for (int i = 0; i < 200000; ++i) page += " href";
  page += std::string("\0\0 href='", 9);
  auto t0 = Clock::now();
  auto links = ParseIndexLinks(page, "http://h/d/", 4096);
  ASSERT_TRUE(links);
  EXPECT_TRUE(links->empty());
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));
}

TEST(IndexLinksTest, PercentDecodeKeepsMalformedEscapes) {
  EXPECT_EQ(PercentDecode("a%20b%2"), "a b%2");
  EXPECT_EQ(PercentDecode("%zz%41"), "%zzA");
  EXPECT_EQ(PercentDecode("%"), "%");
}

// --- the host policy -----------------------------------------------------------

TEST(UrlPolicyTest, AllowListAdmitsOnlyItsHosts) {
  auto p = UrlPolicy::Make({"data.example.com", "*.cdn.example", "10.0.0.0/8"}, {});
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_TRUE(p->CheckUrl("https://data.example.com/x.csv"));
  EXPECT_TRUE(p->CheckUrl("https://DATA.example.com:8443/x.csv"));
  EXPECT_TRUE(p->CheckUrl("http://a.b.cdn.example/x"));
  auto apex = p->CheckUrl("http://evil.example/x");
  // With an address range allowed, a name is judged by the address it resolves to.
  EXPECT_TRUE(apex);
  bool by_name = true;
  ASSERT_TRUE(p->CheckUrl("http://evil.example/x", &by_name));
  EXPECT_FALSE(by_name);
  EXPECT_FALSE(p->CheckAddress("192.0.2.1", by_name));
  EXPECT_TRUE(p->CheckAddress("10.1.2.3", by_name));
  auto names_only = UrlPolicy::Make({"data.example.com"}, {});
  auto refused = names_only->CheckUrl("http://cdn.example/x");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("'cdn.example' is not one this server may fetch from"), std::string::npos)
      << refused.error().message();
}

TEST(UrlPolicyTest, DenyWinsByNameAndByAddress) {
  auto p = UrlPolicy::Make({"*"}, {"*.internal", "127.0.0.0/8", "::1", "169.254.169.254"});
  ASSERT_TRUE(p);
  auto by_name = p->CheckUrl("http://db.internal/x");
  ASSERT_FALSE(by_name);
  EXPECT_NE(by_name.error().message().find("denied by this server (--deny-url-host '*.internal')"), std::string::npos);
  EXPECT_FALSE(p->CheckUrl("http://127.0.0.1:8080/x"));
  EXPECT_FALSE(p->CheckUrl("http://[::1]/x"));
  EXPECT_FALSE(p->CheckUrl("http://169.254.169.254/latest/meta-data/"));
  // A name that resolves into a denied range is refused once connected.
  EXPECT_TRUE(p->CheckUrl("http://localhost.example/x"));
  EXPECT_FALSE(p->CheckAddress("127.0.0.1", true));
  EXPECT_FALSE(p->CheckAddress("::ffff:127.0.0.1", true));
  EXPECT_TRUE(p->CheckAddress("192.0.2.1", true));
}

TEST(UrlPolicyTest, OnlyHttpAndHttpsAndWellFormedPatterns) {
  UrlPolicy open;
  EXPECT_FALSE(open.CheckUrl("file:///etc/passwd"));
  EXPECT_FALSE(open.CheckUrl("ftp://h/x"));
  EXPECT_FALSE(open.CheckUrl("gopher://h/x"));
  EXPECT_FALSE(open.CheckUrl("http://"));
  EXPECT_TRUE(open.CheckUrl("http://h/x"));
  for (const char* bad : {"", "a b", "10.0.0.0/33", "10.0.0.0/x", "*.", "http://h", "*.*.x"}) {
    auto p = UrlPolicy::Make({bad}, {});
    EXPECT_FALSE(p) << bad;
    if (!p) {
      EXPECT_EQ(p.error().field(), "--allow-url-host") << bad;
    }
  }
}

// --- real sockets ----------------------------------------------------------------

// A loopback TCP server whose every connection is handed to `serve` on its own thread.
class LoopbackServer {
 public:
  explicit LoopbackServer(std::function<void(int fd)> serve) : serve_(std::move(serve)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 64), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) break;
        conns_.emplace_back([this, c] {
          serve_(c);
          ::close(c);
        });
      }
    });
  }
  ~LoopbackServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (auto& t : conns_) t.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::atomic<bool> stop_{false};

 private:
  std::function<void(int)> serve_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::vector<std::thread> conns_;
};

// Set when a test's scope ends (declared after its server, so it runs first):
// connection handlers that loop until told stop before the server joins them.
struct Release {
  std::atomic<bool>& flag;
  ~Release() { flag = true; }
};

void ReadRequest(int fd) {
  std::string got;
  char buf[4096];
  while (got.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;
    got.append(buf, static_cast<size_t>(n));
  }
}

void Send(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

TEST(HttpFetchTest, APeerThatAcceptsAndNeverAnswersCostsAtMostTheDeadline) {
  std::atomic<bool> done{false};
  LoopbackServer silent([&](int) {
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  Release release{done};
  UrlFetchOptions o;
  o.limits.total_timeout_ms = 1500;
  for (const std::string& url : {silent.url("/x.csv"), silent.url("/dir/")}) {
    auto t0 = Clock::now();
    Status st;
    if (url.ends_with("/")) {
      auto listed = ListUrlFolder(url, o);
      if (!listed) st = listed.error();
    } else {
      st = CheckUrl(url, o);
    }
    auto took = Clock::now() - t0;
    ASSERT_FALSE(st) << url;
    EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable);
    EXPECT_NE(st.error().message().find("did not answer within 1.5 s"), std::string::npos) << st.error().message();
    EXPECT_LT(took, std::chrono::seconds(6)) << url;  // bound is the point, not speed
  }
}

TEST(HttpFetchTest, LowSpeedLimitEndsADownloadThatTrickles) {
  std::atomic<bool> done{false};
  LoopbackServer trickle([&](int fd) {
    ReadRequest(fd);
    Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
    while (!done) {
      Send(fd, "x");
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  Release release{done};
  UrlFetchOptions o;
  o.limits = UrlLimits::ForDownload();
  o.limits.low_speed_bytes_per_s = 100;
  o.limits.low_speed_time_s = 1;
  fs::path dest = fs::temp_directory_path() / ("lote-trickle-" + RandomHex(4));
  auto st = DownloadUrl(trickle.url("/x.csv"), dest, o);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("sent less than 100 bytes/s for 1 s"), std::string::npos) << st.error().message();
  EXPECT_FALSE(fs::exists(dest));
}

TEST(HttpFetchTest, PagesAndFilesOverTheCapAreRefused) {
  const std::string big(300 * 1024, 'a');
  LoopbackServer server([&](int fd) {
    ReadRequest(fd);
    // No Content-Length: only counting the bytes can stop it.
    Send(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<a href=\"a.csv\">" + big);
  });
  UrlFetchOptions o;
  o.limits.max_index_bytes = 100 * 1024;
  o.limits.max_file_bytes = 100 * 1024;
  auto listed = ListUrlFolder(server.url("/dir/"), o);
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(listed.error().message().find("over the 102400-byte limit"), std::string::npos) << listed.error().message();
  fs::path dest = fs::temp_directory_path() / ("lote-cap-" + RandomHex(4));
  auto st = DownloadUrl(server.url("/big.csv"), dest, o);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("over the 102400-byte limit"), std::string::npos) << st.error().message();
  EXPECT_FALSE(fs::exists(dest));
}

TEST(HttpFetchTest, RedirectsAreCountedAndCheckedOnEveryHop) {
  std::atomic<int> hits{0};
  std::string target;
  LoopbackServer server([&](int fd) {
    ReadRequest(fd);
    ++hits;
    Send(fd, "HTTP/1.1 302 Found\r\nLocation: " + target + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  UrlFetchOptions o;
  // Forever to itself: stops at the limit.
  target = server.url("/loop");
  auto loop = CheckUrl(server.url("/loop"), o);
  ASSERT_FALSE(loop);
  EXPECT_NE(loop.error().message().find("redirects more than 5 times"), std::string::npos) << loop.error().message();
  // To file:// — refused, not followed.
  target = "file:///etc/passwd";
  auto file = CheckUrl(server.url("/f"), o);
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(file.error().message().find("not http:// or https://"), std::string::npos) << file.error().message();
  // To a denied host: the policy is applied to the hop.
  auto denied = UrlPolicy::Make({}, {"denied.example"});
  o.policy = *denied;
  target = "http://denied.example/x";
  auto hop = CheckUrl(server.url("/h"), o);
  ASSERT_FALSE(hop);
  EXPECT_NE(hop.error().message().find("'denied.example' is denied"), std::string::npos) << hop.error().message();
}

TEST(HttpFetchTest, TheConnectedAddressIsChecked) {
  LoopbackServer server([&](int fd) {
    ReadRequest(fd);
    Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  });
  UrlFetchOptions o;
  // "localhost" is not denied by name; its address is.
  o.policy = *UrlPolicy::Make({}, {"127.0.0.0/8", "::1"});
  std::string url = server.url("/x.csv");
  url.replace(url.find("127.0.0.1"), 9, "localhost");
  auto st = CheckUrl(url, o);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("is denied by this server (--deny-url-host"), std::string::npos)
      << st.error().message();
  // Without the policy it answers.
  o.policy = UrlPolicy();
  EXPECT_TRUE(CheckUrl(url, o));
}

}  // namespace
}  // namespace lote::storage
