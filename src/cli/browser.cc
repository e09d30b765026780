#include "cli/browser.h"

#include <spawn.h>

#include <cstdlib>
#include <iostream>
#include <vector>

#include "common/executable.h"

extern char** environ;

namespace lote::cli {

Result<nlohmann::json> CreateLoginLink(ApiClient& client, const std::string& next) {
  LOTE_ASSIGN_OR_RETURN(nlohmann::json link, client.Post("/api/v1/dashboard/login-links", {{"next", next}}));
  if (!link.is_object() || !link.contains("url") || !link["url"].is_string()) {
    return Internal("the server's login link answer has no url");
  }
  return link;
}

void OpenInBrowser(const std::string& url, const std::string& what) {
  const char* browser = std::getenv("BROWSER");
  const char* display = std::getenv("DISPLAY");
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  std::string program;
  if (browser && *browser) program = browser;
  else if ((display && *display) || (wayland && *wayland)) program = "xdg-open";
  const char* path = std::getenv("PATH");
  if (!program.empty()) {
    if (auto exe = FindExecutable(program, path ? path : ""); exe) {
      std::vector<char*> argv = {exe->data(), const_cast<char*>(url.c_str()), nullptr};
      pid_t pid = 0;
      if (posix_spawn(&pid, exe->c_str(), nullptr, nullptr, argv.data(), environ) == 0) {
        std::cerr << "lote: opened the " << what << " in " << program << "\n";
        return;  // the browser lives on; not waited for
      }
    }
  }
  std::cerr << what << ": " << url << "\n";
}

}  // namespace lote::cli
