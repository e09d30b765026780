// lote dashboard [--job J] [--open]: a one-time URL that logs a browser into
// the dashboard `lote serve` serves (docs/dashboard.md), as Jupyter does.
#include <iostream>

#include "cli/browser.h"
#include "cli/command_context.h"

namespace lote::cli {

void AddDashboardCommand(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string job;
    bool open = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "dashboard",
      "Print a one-time login URL for the web dashboard (valid once, for 60 s; a read token's login is read-only)");
  cmd->add_option("--job", a->job, "Land on this job's page");
  cmd->add_flag("--open", a->open, "Also open it in a browser ($BROWSER, or xdg-open on a desktop)");
  cmd->callback([a, &ctx] {
    std::string next = "/";
    if (!a->job.empty()) next = "/jobs/" + a->job;  // the server checks it is a plain path
    auto client = ctx.Client();
    if (!client) return ctx.Fail(client.error());
    auto link = CreateLoginLink(**client, next);
    if (!link) return ctx.Fail(link.error());
    if (!ctx.query.empty() || ctx.output_given) return ctx.Emit(link);
    const std::string url = (*link)["url"];
    // Bare on stdout, so that $(lote dashboard) is the URL.
    std::cout << url << "\n";
    std::cerr << "lote: open it within " << link->value("expires_in_s", 60) << " s; it logs one browser in, once"
              << (link->value("read_only", false) ? " (read-only session)" : "") << "\n";
    if (a->open) OpenInBrowser(url, "dashboard");
  });
}

}  // namespace lote::cli
