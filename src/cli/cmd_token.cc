// lote token create --scope read: a token for dashboards and scrapers that
// may read everything and change nothing.
#include <charconv>
#include <iostream>

#include "cli/command_context.h"

namespace lote::cli {

namespace {

// "3600", "90m", "12h", "30d" -> seconds.
Result<int64_t> ParseDuration(const std::string& text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  int64_t scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
  if (ec != std::errc() || n <= 0 || scale == 0 || n > INT64_MAX / scale) {
    return InvalidArgument("--expires-in '" + text + "' must be a duration such as 3600, 90m, 12h or 30d",
                           "--expires-in");
  }
  return n * scale;
}

}  // namespace

void AddTokenCommands(CLI::App& app, CommandContext& ctx) {
  auto* group = app.add_subcommand("token", "Issue tokens (admin only)")->require_subcommand(0, 1);
  struct Args {
    std::string scope = "read", expires_in;
  };
  auto a = std::make_shared<Args>();
  auto* create = group->add_subcommand("create", "Issue a read-only token: GET everything (jobs, /metrics, "
                                                 "the dashboard), change nothing");
  create->add_option("--scope", a->scope, "read (the only scope; endpoint tokens: lote endpoint get-token)")
      ->check(CLI::IsMember({"read"}));
  create->add_option("--expires-in", a->expires_in, "How long it is valid: 3600, 90m, 12h, 30d (default 30d, at most 366d)");
  create->callback([a, &ctx] {
    nlohmann::json body = {{"scope", a->scope}};
    if (!a->expires_in.empty()) {
      auto secs = ParseDuration(a->expires_in);
      if (!secs) return ctx.Fail(secs.error());
      body["expires_in_s"] = *secs;
    }
    auto client = ctx.Client();
    if (!client) return ctx.Fail(client.error());
    auto t = (*client)->Post("/api/v1/tokens", body);
    if (!t) return ctx.Fail(t.error());
    if (ctx.query.empty() && ctx.output == "json" && !ctx.output_given) {
      // Bare on stdout, so that $(lote token create --scope read) works.
      std::cout << (*t)["accessToken"].get<std::string>() << "\n";
      std::cerr << "lote: read token, expires " << (*t)["expiresOn"].get<std::string>() << "\n";
      return;
    }
    ctx.Emit(t);
  });
}

}  // namespace lote::cli
