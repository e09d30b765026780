// Opening a dashboard page from the CLI (lote dashboard --open, lote job
// show --web), and the one-time login links that log a browser in.
#pragma once

#include <string>

#include "cli/api_client.h"
#include "common/status.h"

namespace lote::cli {

// A one-time login URL for the dashboard that lands on `next` ("/" or
// "/jobs/<job>"): POST /api/v1/dashboard/login-links with the client's
// token. Returns the server's answer: {url, expires_in_s, read_only, next}.
Result<nlohmann::json> CreateLoginLink(ApiClient& client, const std::string& next);

// Opens `url` in a browser where there is one ($BROWSER, or xdg-open on a
// desktop) and says so on stderr; prints "<what>: <url>" on stderr otherwise
// (stdout stays the command's result). The browser is not waited for.
void OpenInBrowser(const std::string& url, const std::string& what);

}  // namespace lote::cli
