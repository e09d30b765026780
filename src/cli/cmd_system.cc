// lote system df: what the server's home holds (GET /api/v1/system/df).
#include "cli/command_context.h"

namespace lote::cli {

namespace {

// -o table: one row per category, then the biggest jobs as rows of their own.
void EmitDiskUsage(CommandContext& ctx, const Result<nlohmann::json>& r) {
  if (!r || ctx.output != "table" || !ctx.query.empty()) return ctx.Emit(r);
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& c : r->value("categories", nlohmann::json::array())) {
    nlohmann::ordered_json row;
    row["category"] = c.value("category", "");
    row["bytes"] = c.value("bytes", uint64_t{0});
    row["files"] = c.value("files", int64_t{0});
    row["what"] = c.value("what", "");
    rows.push_back(std::move(row));
  }
  for (const auto& j : r->value("biggest_jobs", nlohmann::json::array())) {
    nlohmann::ordered_json row;
    row["category"] = "job " + j.value("name", std::string());
    row["bytes"] = j.value("bytes", uint64_t{0});
    row["files"] = "";
    row["what"] = j.value("status", std::string()) + ", results " + std::to_string(j.value("results_bytes", 0)) +
                  " bytes, logs " + std::to_string(j.value("logs_bytes", 0)) + " bytes";
    rows.push_back(std::move(row));
  }
  ctx.EmitOrdered(rows);
}

}  // namespace

void AddSystemCommands(CLI::App& app, CommandContext& ctx) {
  auto* group = app.add_subcommand("system", "The server itself")->require_subcommand(0, 1);
  auto* df = group->add_subcommand(
      "df", "What the server's home holds: bytes and files of job results, logs and staging, uploads, "
            "models, code, data assets, the datastore and the store; the biggest jobs");
  df->callback([&ctx] {
    EmitDiskUsage(ctx, ctx.Call([](ApiClient& c) { return c.Get("/api/v1/system/df"); }));
  });
}

}  // namespace lote::cli
