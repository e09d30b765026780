#include <gtest/gtest.h>

#include "server/server_context.h"
#include "server/web_assets.h"

namespace lote::server {
namespace {

TEST(DashboardRoutesTest, OnlyPagesAssetsAndLoginArePublic) {
  for (const char* open : {"/", "/login", "/jobs", "/endpoints", "/jobs/my-job", "/ui/app.js"}) {
    EXPECT_TRUE(IsPublicDashboardPath(open)) << open;
  }
  for (const char* closed : {"", "/api/v1/jobs", "/api/v1/dashboard/session", "/metrics", "/jobs/", "/jobs/a/b",
                             "/ui/", "/login/x", "/ui", "//", "/Jobs"}) {
    EXPECT_FALSE(IsPublicDashboardPath(closed)) << closed;
  }
}

TEST(DashboardRoutesTest, WebFilesAreBuiltIn) {
  bool html = false, js = false, css = false;
  for (const WebAsset& a : WebAssets()) {
    EXPECT_FALSE(a.body.empty()) << a.path;
    html |= a.path == "index.html";
    js |= a.path == "app.js";
    css |= a.path == "app.css";
  }
  EXPECT_TRUE(html && js && css);
}

}  // namespace
}  // namespace lote::server
