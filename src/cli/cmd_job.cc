// lote job show|list|stream|cancel|download
#include <chrono>
#include <iostream>
#include <thread>

#include "cli/command_context.h"

namespace lote::cli {

namespace fs = std::filesystem;

namespace {

std::string JobPath(const std::string& name) { return "/api/v1/jobs/" + EncodePath(name); }

int ExitForStatus(const std::string& status) { return status == "Completed" ? 0 : 1; }

void Stream(const std::string& name, CommandContext& ctx) {
  auto client = ctx.Client();
  if (!client) return ctx.Fail(client.error());
  int64_t offset = 0;
  int misses = 0;
  while (true) {
    auto log = (*client)->Get(JobPath(name) + "/log?offset=" + std::to_string(offset));
    if (!log) {
      // The control plane may be restarting: keep trying for a while.
      if (log.error().code() == ErrorCode::kUnavailable && ++misses < 60) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      return ctx.Fail(log.error());
    }
    misses = 0;
    std::cout << (*log)["text"].get<std::string>() << std::flush;
    offset = (*log)["next_offset"];
    if ((*log)["done"].get<bool>()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  auto job = (*client)->Get(JobPath(name));
  if (!job) return ctx.Fail(job.error());
  const auto& j = *job;
  std::string status = j["status"];
  std::cout << "Job " << name << ": " << status;
  if (j.contains("error")) std::cout << " (" << j["error"].get<std::string>() << ")";
  std::cout << "\n  items: " << j["progress"]["items"]["succeeded"] << " succeeded, "
            << j["progress"]["items"]["failed"] << " failed\n";
  if (j["output"].contains("written")) {
    std::cout << "  output: " << j["output"]["uri"].get<std::string>() << "\n          "
              << j["output"]["local_path"].get<std::string>() << "\n";
  }
  ctx.exit_code = ExitForStatus(status);
}

Status Download(ApiClient& client, const std::string& name, const fs::path& out_dir) {
  LOTE_ASSIGN_OR_RETURN(nlohmann::json files, client.Get(JobPath(name) + "/files"));
  fs::path root = out_dir / name;
  std::error_code ec;
  for (const auto& group : {"output", "logs"}) {
    for (const auto& f : files[group]) {
      std::string rel = f;
      fs::path dest = root / rel;
      fs::create_directories(dest.parent_path(), ec);
      LOTE_TRY(client.GetFile(JobPath(name) + "/files/" + EncodePath(rel), dest));
    }
  }
  std::cout << "downloaded " << files["output"].size() + files["logs"].size() << " files to "
            << root.string() << "\n";
  return {};
}

}  // namespace

void AddJobCommands(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string name, endpoint, output_dir;
  };
  auto a = std::make_shared<Args>();
  auto* group = app.add_subcommand("job", "Watch and control batch jobs")->require_subcommand(1);

  auto* show = group->add_subcommand("show", "Show a job: status, progress, output location");
  show->add_option("-n,--name", a->name, "Job name")->required();
  show->callback(
      [a, &ctx] { ctx.Emit(ctx.Call([&](ApiClient& c) { return c.Get(JobPath(a->name)); })); });

  auto* list = group->add_subcommand("list", "List jobs, newest first");
  list->add_option("--endpoint,--endpoint-name", a->endpoint, "Only this endpoint's jobs");
  list->callback([a, &ctx] {
    ctx.Emit(ctx.Call([&](ApiClient& c) {
      return c.Get("/api/v1/jobs" +
                   (a->endpoint.empty() ? "" : "?endpoint=" + EncodePath(a->endpoint)));
    }));
  });

  auto* stream = group->add_subcommand("stream", "Print the job's log live until it ends (exit 0 only for Completed)");
  stream->add_option("-n,--name", a->name, "Job name")->required();
  stream->callback([a, &ctx] { Stream(a->name, ctx); });

  auto* cancel = group->add_subcommand("cancel", "Cancel a job (committed results are kept)");
  cancel->add_option("-n,--name", a->name, "Job name")->required();
  cancel->callback([a, &ctx] {
    ctx.Emit(ctx.Call([&](ApiClient& c) {
      return c.Post(JobPath(a->name) + "/cancel", nlohmann::json::object());
    }));
  });

  auto* download = group->add_subcommand("download", "Download a job's output and logs");
  download->add_option("-n,--name", a->name, "Job name")->required();
  download->add_option("--output-dir,--download-path", a->output_dir, "Where to put them (default: .)");
  download->callback([a, &ctx] {
    auto client = ctx.Client();
    if (!client) return ctx.Fail(client.error());
    auto st = Download(**client, a->name, a->output_dir.empty() ? fs::path(".") : fs::path(a->output_dir));
    if (!st) ctx.Fail(st.error());
  });
}

}  // namespace lote::cli
