// lote job show|list|stream|cancel|download
#include <sys/ioctl.h>
#include <unistd.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/browser.h"
#include "cli/command_context.h"
#include "cli/confirm.h"
#include "cli/job_progress.h"
#include "cli/user_logs.h"
#include "model/names.h"

namespace lote::cli {

namespace fs = std::filesystem;

namespace {

std::string JobPath(const std::string& name) { return "/api/v1/jobs/" + EncodePath(name); }

int ExitForStatus(const std::string& status) { return status == "Completed" ? 0 : 1; }

int TerminalWidth() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
  return 100;
}

}  // namespace

// The job's log as it grows, with its progress every ~2 s while it runs: one
// bar redrawn in place on a terminal, a plain line (when it changed) otherwise.
void StreamJob(const std::string& name, CommandContext& ctx, bool user_logs) {
  using Clock = std::chrono::steady_clock;
  auto client = ctx.Client();
  if (!client) return ctx.Fail(client.error());
  const bool tty = isatty(STDOUT_FILENO) == 1;
  const int width = tty ? TerminalWidth() - 1 : 0;
  std::string bar, last_line;
  auto next_progress = Clock::now() + std::chrono::seconds(2);
  int64_t offset = 0;
  int misses = 0;
  // With --user-logs: what the scripts printed, polled about once a second.
  UserLogTail tail;
  auto next_user_logs = Clock::now();
  auto print_user_logs = [&] {
    auto lines = tail.Poll(**client, name);
    if (!lines) {
      // A server restarting, or an older one: the job's own log goes on.
      if (lines.error().code() != ErrorCode::kUnavailable) std::cerr << "lote: user logs: " << lines.error().message() << "\n";
      return;
    }
    if (lines->empty()) return;
    if (!bar.empty()) std::cout << "\r\033[K";
    std::cout << *lines;
    if (!bar.empty()) std::cout << bar;
    std::cout << std::flush;
  };
  while (true) {
    auto log = (*client)->Get(JobPath(name) + "/log?offset=" + std::to_string(offset));
    if (!log) {
      // The control plane may be restarting: keep trying for a while.
      if (log.error().code() == ErrorCode::kUnavailable && ++misses < 60) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      if (!bar.empty()) std::cout << "\r\033[K" << std::flush;
      return ctx.Fail(log.error());
    }
    misses = 0;
    const std::string& text = (*log)["text"].get_ref<const std::string&>();
    if (!text.empty()) {
      if (!bar.empty()) std::cout << "\r\033[K";
      std::cout << text;
      if (!bar.empty()) std::cout << bar;
      std::cout << std::flush;
    }
    offset = (*log)["next_offset"];
    if ((*log)["done"].get<bool>()) break;
    if (user_logs && Clock::now() >= next_user_logs) {
      next_user_logs = Clock::now() + std::chrono::seconds(1);
      print_user_logs();
    }
    if (Clock::now() >= next_progress) {
      next_progress = Clock::now() + std::chrono::seconds(2);
      auto job = (*client)->Get(JobPath(name));
      if (job && job->value("status", "") == "Running") {
        if (tty) {
          bar = ProgressBar(*job, width);
          std::cout << "\r\033[K" << bar << std::flush;
        } else if (std::string line = ProgressLine(*job); line != last_line) {
          std::cout << line << "\n" << std::flush;
          last_line = std::move(line);
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  if (user_logs) print_user_logs();  // the job ended: the rest, unfinished lines too
  if (!bar.empty()) std::cout << "\r\033[K" << std::flush;
  auto job = (*client)->Get(JobPath(name));
  if (!job) return ctx.Fail(job.error());
  const auto& j = *job;
  std::string status = j["status"];
  std::cout << "Job " << name << ": " << status;
  if (j.contains("error")) std::cout << " (" << j["error"].get<std::string>() << ")";
  const auto& mb = j["progress"]["mini_batches"];
  std::cout << "\n  mini-batches: " << mb.value("succeeded", 0) << " succeeded, " << mb.value("failed", 0)
            << " failed, " << mb.value("canceled", 0) << " canceled, " << mb.value("not_run", 0) << " not run";
  std::cout << "\n  items: " << j["progress"]["items"]["succeeded"] << " succeeded, "
            << j["progress"]["items"]["failed"] << " failed\n";
  if (j["output"].contains("written")) {
    std::cout << "  output: " << j["output"]["uri"].get<std::string>() << "\n          "
              << j["output"]["local_path"].get<std::string>() << "\n";
  }
  ctx.exit_code = ExitForStatus(status);
}

namespace {

// --status as users type it ("running") -> the server's name ("Running").
Result<std::string> CanonicalStatus(const std::string& given) {
  if (given.empty()) return std::string();
  static const char* kStatuses[] = {"NotStarted", "Preparing", "Running", "Finalizing",
                                    "Completed",  "Failed",    "Canceled"};
  std::string lower;
  for (char ch : given) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::vector<std::string_view> names;
  for (const char* s : kStatuses) {
    std::string l;
    for (const char* p = s; *p; ++p) l += static_cast<char>(std::tolower(static_cast<unsigned char>(*p)));
    if (l == lower || (lower == "cancelled" && l == "canceled")) return std::string(s);
    names.push_back(s);
  }
  return InvalidArgument("--status '" + given + "' is not a job status" + model::DidYouMean(given, names) +
                             " (NotStarted, Preparing, Running, Finalizing, Completed, Failed, Canceled)",
                         "--status");
}

// Jobs, printed; -o table shows one row of progress columns per job (unless
// --query picks its own columns).
void EmitJobs(CommandContext& ctx, const Result<nlohmann::json>& r) {
  if (!r || ctx.output != "table" || !ctx.query.empty()) return ctx.Emit(r);
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  if (r->is_array()) {
    for (const auto& j : *r) rows.push_back(JobTableRow(j));
  } else {
    rows.push_back(JobTableRow(*r));
  }
  ctx.EmitOrdered(rows);
}

// A file name the server lists must stay inside the download folder: a
// hostile or broken server could otherwise name "../../.bashrc".
Status CheckListedName(const std::string& rel) {
  fs::path p(rel);
  bool bad = rel.empty() || p.is_absolute() || rel.find('\0') != std::string::npos;
  for (const auto& part : p) bad = bad || part == "..";
  if (bad) return InvalidArgument("the server listed a file name that leaves the download folder: '" + rel + "'");
  return {};
}

// The job's page: what the server names as its Studio endpoint (Azure's
// interactionEndpoints), else the job's API URL.
std::string JobPageUrl(const ApiClient& client, const nlohmann::json& job, const std::string& name) {
  const nlohmann::json* studio = &job;
  for (const char* key : {"properties", "interactionEndpoints", "Studio", "endpoint"}) {
    if (!studio->is_object() || !studio->contains(key)) {
      studio = nullptr;
      break;
    }
    studio = &(*studio)[key];
  }
  if (studio && studio->is_string()) return studio->get<std::string>();
  return client.options().base_url + JobPath(name);
}

// az's layout: DIR/named-outputs/<output>/<files>.
Status DownloadOutput(ApiClient& client, const std::string& name, const std::string& output,
                      const fs::path& out_dir) {
  if (output != "score") {
    return NotFound("job '" + name + "' has no output named '" + output +
                        "': a batch job's output is 'score' (lote job download --output-name score)",
                    "--output-name");
  }
  LOTE_ASSIGN_OR_RETURN(nlohmann::json files, client.Get(JobPath(name) + "/files"));
  fs::path root = out_dir / "named-outputs" / output;
  std::error_code ec;
  size_t n = 0;
  // output_files: {name (inside the output folder), path (to fetch)}; the
  // folders inside the output are kept, as az keeps them.
  for (const auto& f : files.value("output_files", nlohmann::json::array())) {
    if (!f.is_object() || !f.contains("name") || !f.contains("path") || !f["name"].is_string() ||
        !f["path"].is_string()) {
      return InvalidArgument("the server's output file list is malformed");
    }
    const std::string name_in_output = f["name"], rel = f["path"];
    LOTE_TRY(CheckListedName(name_in_output));
    LOTE_TRY(CheckListedName(rel));
    fs::path dest = root / name_in_output;
    fs::create_directories(dest.parent_path(), ec);
    if (ec) return IoError("cannot create '" + dest.parent_path().string() + "': " + ec.message());
    LOTE_TRY(client.GetFile(JobPath(name) + "/files/" + EncodePath(rel), dest));
    ++n;
  }
  std::cerr << "downloaded " << n << " file" << (n == 1 ? "" : "s") << " to " << root.string() << "\n";
  return {};
}

Status Download(ApiClient& client, const std::string& name, const fs::path& out_dir) {
  LOTE_ASSIGN_OR_RETURN(nlohmann::json files, client.Get(JobPath(name) + "/files"));
  fs::path root = out_dir / name;
  std::error_code ec;
  for (const auto& group : {"output", "logs"}) {
    for (const auto& f : files[group]) {
      if (!f.is_string()) return InvalidArgument("the server's file list holds a non-string entry");
      std::string rel = f;
      LOTE_TRY(CheckListedName(rel));
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
    std::string name, endpoint, output_dir, output_name, status;
    std::optional<int64_t> max_results;
    bool web = false, yes = false, user_logs = false;
  };
  auto a = std::make_shared<Args>();
  auto* group = app.add_subcommand("job", "Watch and control batch jobs")->require_subcommand(0, 1);

  auto* show = group->add_subcommand("show", "Show a job: status, progress, output location");
  show->add_option("-n,--name", a->name, "Job name")->required();
  show->add_flag("--web", a->web, "Also open the job's page in a browser (or print its URL)");
  show->callback([a, &ctx] {
    auto client = ctx.Client();
    if (!client) return ctx.Fail(client.error());
    auto job = (*client)->Get(JobPath(a->name));
    if (job && a->web) {
      // Logged in where the token may make a login link (admin, read);
      // otherwise the page, which says how to log in.
      auto link = CreateLoginLink(**client, "/jobs/" + a->name);
      OpenInBrowser(link ? (*link)["url"].get<std::string>() : JobPageUrl(**client, *job, a->name), "Job page");
    }
    EmitJobs(ctx, job);
  });

  auto* list = group->add_subcommand("list", "List jobs, newest first");
  list->add_option("--endpoint,--endpoint-name,-e", a->endpoint, "Only this endpoint's jobs");
  list->add_option("--status", a->status, "Only jobs in this status: NotStarted, Preparing, Running, "
                                          "Finalizing, Completed, Failed or Canceled");
  list->add_option("--max-results", a->max_results, "At most this many jobs (the newest)")
      ->check(CLI::PositiveNumber);
  list->callback([a, &ctx] {
    auto status = CanonicalStatus(a->status);
    if (!status) return ctx.Fail(status.error());
    auto jobs = ctx.Call([&](ApiClient& c) -> Result<nlohmann::json> {
      LOTE_ASSIGN_OR_RETURN(nlohmann::json all, c.Get("/api/v1/jobs" + (a->endpoint.empty()
                                                         ? "" : "?endpoint=" + EncodePath(a->endpoint))));
      nlohmann::json out = nlohmann::json::array();
      for (auto& j : all) {
        if (a->max_results && out.size() >= static_cast<size_t>(*a->max_results)) break;
        if (status->empty() || j.value("status", "") == *status) out.push_back(std::move(j));
      }
      return out;
    });
    EmitJobs(ctx, jobs);
  });

  auto* stream = group->add_subcommand("stream", "Print the job's log live until it ends (exit 0 only for Completed)");
  stream->add_option("-n,--name", a->name, "Job name")->required();
  stream->add_flag("--user-logs", a->user_logs,
                   "Also print what the scoring scripts print (stdout and stderr of each worker, prefixed "
                   "[node/process])");
  stream->callback([a, &ctx] { StreamJob(a->name, ctx, a->user_logs); });

  auto* cancel = group->add_subcommand("cancel", "Cancel a job (committed results are kept)");
  cancel->add_option("-n,--name", a->name, "Job name")->required();
  cancel->callback([a, &ctx] {
    ctx.Emit(ctx.Call([&](ApiClient& c) {
      return c.Post(JobPath(a->name) + "/cancel", nlohmann::json::object());
    }));
  });

  auto* del = group->add_subcommand("delete", "Delete an ended job's records and files (never its output "
                                               "location's files)");
  del->add_option("-n,--name", a->name, "Job name")->required();
  del->add_flag("-y,--yes", a->yes, "Do not prompt for confirmation");
  del->callback([a, &ctx] {
    const std::string what = "job '" + a->name + "'";
    if (auto ok = ConfirmDelete(a->yes, "Delete " + what + " (its logs and results; the output stays)?", what,
                                TerminalIo());
        !ok) {
      return ctx.Fail(ok.error());
    }
    ctx.Emit(ctx.Call([&](ApiClient& c) { return c.Delete(JobPath(a->name)); }));
  });

  auto* download = group->add_subcommand("download", "Download a job's output and logs");
  download->add_option("-n,--name", a->name, "Job name")->required();
  download->add_option("--output-dir,--download-path,-p", a->output_dir, "Where to put them (default: .)");
  download->add_option("--output-name", a->output_name,
                       "Download only this output, as az does: DIR/named-outputs/score/<files>");
  download->callback([a, &ctx] {
    auto client = ctx.Client();
    if (!client) return ctx.Fail(client.error());
    fs::path dir = a->output_dir.empty() ? fs::path(".") : fs::path(a->output_dir);
    auto st = a->output_name.empty() ? Download(**client, a->name, dir)
                                     : DownloadOutput(**client, a->name, a->output_name, dir);
    if (!st) ctx.Fail(st.error());
  });
}

}  // namespace lote::cli
