#include "agent/control_plane_client.h"

#include <httplib.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "agent/agent_state.h"
#include "agent/download_sink.h"
#include "agent/results_file.h"
#include "cli/api_client.h"
#include "http/file_body.h"

namespace lote::agent {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr char kJson[] = "application/json";

Error Stopping() { return Error(ErrorCode::kUnavailable, "the agent is stopping"); }

ErrorCode CodeForHttpStatus(int status) {
  switch (status) {
    case 400: return ErrorCode::kInvalidArgument;
    case 401: return ErrorCode::kUnauthenticated;
    case 403: return ErrorCode::kPermissionDenied;
    case 404: return ErrorCode::kNotFound;
    case 409: return ErrorCode::kFailedPrecondition;
    case 413: return ErrorCode::kPayloadTooLarge;
    case 502:
    case 503:
    case 504: return ErrorCode::kUnavailable;
    default: return ErrorCode::kInternal;
  }
}

bool Retryable(const httplib::Result& r) {
  return !r || r->status == 502 || r->status == 503 || r->status == 504;
}

Result<json> DecodeBody(int status, const std::string& text, const std::string& what) {
  json body;
  if (!text.empty()) {
    try {
      body = json::parse(text);
    } catch (const json::exception&) {
      if (status < 300) return Internal(what + ": the control plane answered with non-JSON");
    }
  }
  if (status >= 200 && status < 300) return body;
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const auto& e = body["error"];
    return Error(ErrorCodeFromName(e.value("code", "")),
                 what + ": " + e.value("message", std::string("unknown error")),
                 e.value("field", ""));
  }
  return Error(CodeForHttpStatus(status), what + ": HTTP " + std::to_string(status));
}

Result<json> Decode(const httplib::Result& r, const std::string& what) { return DecodeBody(r->status, r->body, what); }

}  // namespace

struct ControlPlaneClient::Impl {
  explicit Impl(ControlPlaneOptions o) : options(std::move(o)), http(options.server_url) {
    http.set_bearer_token_auth(options.token);
    http.set_connection_timeout(5, 0);
    http.set_read_timeout(60, 0);
    http.set_write_timeout(60, 0);
    http.set_keep_alive(true);
    http.set_tcp_nodelay(true);  // no delayed-ACK stall between headers and body
    job_path = "/api/v1/jobs/" + cli::EncodePath(options.job);
  }

  bool stopping() const { return options.state != nullptr && options.state->stopping(); }

  // Sends until the control plane answers (anything but 502/503/504), the
  // unreachable window closes, or the agent stops.
  Result<json> Call(const std::string& what, const std::function<httplib::Result()>& send,
                    const std::function<bool(const httplib::Result&)>& retry = Retryable) {
    std::optional<Clock::time_point> give_up;
    auto backoff = std::chrono::milliseconds(100);
    for (;;) {
      if (stopping()) return Stopping();
      httplib::Result r = send();
      if (!retry(r)) return r ? Decode(r, what) : Result<json>(Error(ErrorCode::kInternal, what + ": " +
                                                                     httplib::to_string(r.error())));
      if (stopping()) return Stopping();
      std::string reason = r ? "HTTP " + std::to_string(r->status) : httplib::to_string(r.error());
      auto now = Clock::now();
      if (!give_up) give_up = now + std::chrono::seconds(options.unreachable_timeout_s);
      if (now >= *give_up) {
        return Error(ErrorCode::kUnavailable,
                     what + ": the control plane at " + options.server_url +
                         " has been unreachable for " +
                         std::to_string(options.unreachable_timeout_s) + " s (" + reason + ")");
      }
      auto wait = std::min<Clock::duration>(backoff, *give_up - now);
      auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(wait);
      if (options.state != nullptr) {
        if (options.state->SleepFor(wait_ms)) return Stopping();
      } else {
        std::this_thread::sleep_for(wait_ms);
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
  }

  // Streams a GET's body into sink, retrying as Call() does (each attempt
  // from the start, after sink.Restart()). A sink that refuses bytes ends
  // the download with its error, not retried.
  Status Download(const std::string& what, const std::string& path, DownloadSink& sink) {
    std::optional<Error> sink_error;
    int status = 0;
    std::string error_body;  // the answer of a refused download, bounded
    auto result = Call(what, [&]() -> httplib::Result {
      sink_error.reset();
      status = 0;
      error_body.clear();
      if (auto st = sink.Restart(); !st) {
        sink_error = st.error();
        return httplib::Result(nullptr, httplib::Error::Canceled);
      }
      return http.Get(
          path,
          [&](const httplib::Response& r) {
            status = r.status;
            return true;
          },
          [&](const char* data, size_t n) {
            if (status != 200) {
              error_body.append(data, std::min(n, size_t{65536} - std::min(error_body.size(), size_t{65536})));
              return true;
            }
            if (auto st = sink.Write(std::string_view(data, n)); !st) {
              sink_error = st.error();
              return false;
            }
            return true;
          });
    }, [&](const httplib::Result& r) { return !sink_error && Retryable(r); });
    if (sink_error) return sink_error->WithContext(what);
    if (!result && result.error().code() == ErrorCode::kUnavailable) return result.error();
    // The body of a refusal went to error_body, not to the sink.
    if (status != 0 && status != 200) return DecodeBody(status, error_body, what).error();
    if (!result) return result.error();
    return {};
  }

  struct FileSent {
    std::optional<json> answer;             // the control plane took the file
    std::optional<std::string> fell_back;   // why the rows must go in the body instead
    std::optional<Error> error;             // neither: the post failed as a body's would
    bool body_once = false;                 // this batch goes in the body (little free space)
  };

  // Whether the folder's filesystem has room for `bytes` and as much again,
  // and at least kMinFreeBytes more. Unknown (statvfs fails): assumed so;
  // the write then says.
  static bool RoomFor(const std::string& dir, size_t bytes) {
    constexpr uint64_t kMinFreeBytes = 256u << 20;
    struct statvfs fs{};
    if (statvfs(dir.c_str(), &fs) != 0) return true;
    const uint64_t free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    return free >= 2 * static_cast<uint64_t>(bytes) + kMinFreeBytes;
  }

  // Writes the batch into results_dir and posts its name to
  // POST …/tasks/results-file (path is …/tasks/results).
  FileSent PostFile(const std::string& path, const std::vector<std::string_view>& pieces, size_t total) {
    FileSent out;
    if (!RoomFor(options.results_dir, total)) {
      // Nearly full: the body path lets the control plane refuse the batch
      // before a byte is stored (a job that ended) and fail the job at once
      // on a full disk; a file the agent wrote would hold the last free
      // space the server needs to write the job's reports.
      out.body_once = true;
      return out;
    }
    auto written = WriteResultsFile(options.results_dir, pieces);
    if (!written) {
      out.fell_back = written.error().message();
      return out;
    }
    // Gone already once the control plane took it (it renames it).
    struct RemoveAfter {
      const std::filesystem::path& file;
      ~RemoveAfter() { ::unlink(file.c_str()); }
    } remove_after{written->path};
    const std::string target = path + "-file";
    const std::string body = json{{"file", written->name}, {"bytes", written->bytes}}.dump();
    auto r = Call("POST " + target, [&] { return http.Post(target, body, kJson); });
    if (r) {
      out.answer = std::move(*r);
      return out;
    }
    const ErrorCode code = r.error().code();
    // Refused while the file is still here: the control plane did not take
    // it (it cannot see this host's folder, or takes no file from this job),
    // so nothing was committed and the body is safe to send. A file that is
    // gone was taken: a retry after a lost answer, whose outcome the leases
    // settle as a failed POST's does.
    std::error_code ec;
    if ((code == ErrorCode::kNotFound || code == ErrorCode::kInvalidArgument) &&
        std::filesystem::exists(written->path, ec)) {
      out.fell_back = r.error().message();
      return out;
    }
    out.error = r.error();
    return out;
  }

  // POST …/tasks/results with the batch in the body.
  Result<json> PostBody(const std::string& path, size_t total, httplib::ContentProvider provider) {
    return Call("POST " + path, [&] {
      return http.Post(path, total, provider, "application/x-lote-results");
    });
  }

  ControlPlaneOptions options;
  httplib::Client http;
  std::string job_path;
  bool by_body = false;  // results by file failed once: every batch goes in the body
};

ControlPlaneClient::ControlPlaneClient(ControlPlaneOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  if (impl_->options.state != nullptr) impl_->options.state->TrackClient(this);
}

ControlPlaneClient::~ControlPlaneClient() {
  if (impl_->options.state != nullptr) impl_->options.state->UntrackClient(this);
}

void ControlPlaneClient::Abort() { impl_->http.stop(); }

Result<json> ControlPlaneClient::GetAgentConfig() {
  std::string path = impl_->job_path + "/agent-config";
  return impl_->Call("GET " + path, [&] { return impl_->http.Get(path); });
}

Result<LeaseResponse> ControlPlaneClient::Lease(const std::string& worker, int max) {
  std::string path = impl_->job_path + "/lease";
  std::string body = json{{"worker", worker}, {"max", max}}.dump();
  LOTE_ASSIGN_OR_RETURN(json r, impl_->Call("POST " + path, [&] {
    return impl_->http.Post(path, body, kJson);
  }));
  LeaseResponse out;
  try {
    std::string state = r.at("state").get<std::string>();
    if (state != "running" && state != "finished") {
      return Internal("POST " + path + ": unknown state '" + state + "'");
    }
    out.finished = state == "finished";
    out.lease_ms = r.value("lease_ms", int64_t{0});
    for (const auto& t : r.value("tasks", json::array())) {
      LeasedTask task;
      task.id = t.at("id").get<int64_t>();
      task.lease = t.at("lease").get<std::string>();
      task.attempt = t.value("attempt", 1);
      task.items = t.at("items");
      if (!task.items.is_array()) return Internal("POST " + path + ": task items is not a list");
      out.tasks.push_back(std::move(task));
    }
  } catch (const json::exception& e) {
    return Internal("POST " + path + ": unexpected answer: " + e.what());
  }
  return out;
}

Result<ResultsAnswer> ControlPlaneClient::PostResults(const std::string& worker,
                                                      const std::vector<TaskResult>& results) {
  std::string path = impl_->job_path + "/tasks/results";
  json list = json::array();
  for (const TaskResult& t : results) {
    list.push_back({{"task", t.task_id},
                    {"lease", t.lease},
                    {"succeeded", t.succeeded},
                    {"failed", t.failed},
                    {"started_ms", t.started_ms},
                    {"elapsed_ms", t.elapsed_ms},
                    {"header", t.header ? json(*t.header) : json()},
                    {"bytes", t.payload.size()}});
    if (!t.item_errors.empty()) list.back()["item_errors"] = t.item_errors;
  }
  // One line of metadata, then each result's rows (jobs/result_batch.h).
  const std::string meta =
      json{{"worker", worker}, {"results", std::move(list)}}.dump(-1, ' ', false,
                                                                  json::error_handler_t::replace) +
      "\n";
  std::vector<std::string_view> pieces = {meta};
  size_t total = meta.size();
  for (const TaskResult& t : results) {
    if (!t.payload.empty()) pieces.emplace_back(t.payload);
    total += t.payload.size();
  }
  ResultsAnswer out;
  std::optional<json> answer;
  if (!impl_->options.results_dir.empty() && !impl_->by_body) {
    auto sent = impl_->PostFile(path, pieces, total);
    if (sent.answer) {
      answer = std::move(*sent.answer);
      out.by_file = true;
    } else if (sent.body_once) {
      // in the body, this once
    } else if (!sent.fell_back) {
      return *sent.error;
    } else {
      impl_->by_body = true;
      out.fell_back = *sent.fell_back;
    }
  }
  if (!answer) {
    LOTE_ASSIGN_OR_RETURN(answer, impl_->PostBody(
        path, total,
        // Streamed from the rows in memory, piece by piece: no copy of the body.
        [&pieces](size_t offset, size_t length, httplib::DataSink& sink) {
          size_t at = 0;
          for (std::string_view p : pieces) {
            if (offset < at + p.size()) {
              size_t from = offset - at;
              size_t n = std::min({length, p.size() - from, size_t{1} << 20});
              return sink.write(p.data() + from, n);
            }
            at += p.size();
          }
          return false;
        }));
  }
  const json& r = *answer;
  try {
    for (const auto& id : r.at("accepted")) out.accepted.push_back(id.get<int64_t>());
    for (const auto& d : r.at("dropped")) {
      out.dropped.emplace_back(d.at("task").get<int64_t>(), d.value("reason", std::string()));
    }
  } catch (const json::exception& e) {
    return Internal("POST " + path + ": unexpected answer: " + e.what());
  }
  return out;
}

Status ControlPlaneClient::ReleaseTasks(const std::string& worker, const std::vector<LeasedTask>& tasks) {
  std::string path = impl_->job_path + "/tasks/release";
  json list = json::array();
  for (const LeasedTask& t : tasks) list.push_back({{"id", t.id}, {"lease", t.lease}});
  std::string body = json{{"worker", worker}, {"tasks", std::move(list)}}.dump();
  LOTE_TRY(impl_->Call("POST " + path, [&] { return impl_->http.Post(path, body, kJson); }));
  return {};
}

Result<json> ControlPlaneClient::GetArtifacts() {
  std::string path = impl_->job_path + "/artifacts";
  return impl_->Call("GET " + path, [&] { return impl_->http.Get(path); });
}

Status ControlPlaneClient::DownloadBlob(const std::string& sha256, DownloadSink& sink) {
  std::string path = impl_->job_path + "/blobs/" + sha256;
  return impl_->Download("GET " + path, path, sink);
}

Status ControlPlaneClient::DownloadItem(int64_t task, size_t index, std::optional<size_t> span,
                                        const std::string& lease, DownloadSink& sink) {
  std::string path = impl_->job_path + "/tasks/" + std::to_string(task) + "/items/" + std::to_string(index);
  std::string query = "?lease=" + cli::EncodePath(lease);
  if (span) query += "&span=" + std::to_string(*span);
  return impl_->Download("GET " + path, path + query, sink);
}

namespace {

Result<uint64_t> SizeOf(const json& r, const std::string& what) {
  if (!r.is_object() || !r.contains("size") || !r["size"].is_number_unsigned()) {
    return Internal(what + ": the answer has no size");
  }
  return r["size"].get<uint64_t>();
}

}  // namespace

Result<uint64_t> ControlPlaneClient::NodeLogSize(const std::string& rel) {
  std::string path = impl_->job_path + "/node-logs/" + cli::EncodePath(rel);
  LOTE_ASSIGN_OR_RETURN(json r, impl_->Call("GET " + path, [&] { return impl_->http.Get(path); }));
  return SizeOf(r, "GET " + path);
}

Result<uint64_t> ControlPlaneClient::WriteNodeLog(const std::string& rel, uint64_t offset, std::string_view data) {
  std::string path = impl_->job_path + "/node-logs/" + cli::EncodePath(rel);
  std::string target = path + "?offset=" + std::to_string(offset);
  LOTE_ASSIGN_OR_RETURN(json r, impl_->Call("POST " + path, [&] {
    return impl_->http.Post(target, data.data(), data.size(), "application/octet-stream");
  }));
  return SizeOf(r, "POST " + path);
}

Status ControlPlaneClient::PutNodeOutput(const std::string& rel, const std::filesystem::path& local) {
  std::string path = impl_->job_path + "/node-outputs/" + cli::EncodePath(rel);
  LOTE_ASSIGN_OR_RETURN(http::FileBody body, http::StreamFile(local));
  LOTE_TRY(impl_->Call("PUT " + path, [&] {
    return impl_->http.Put(path, body.size, body.provider, "application/octet-stream");
  }));
  return {};
}

Result<std::string> ControlPlaneClient::PostFail(const TaskFailure& f) {
  std::string path = impl_->job_path + "/tasks/" + std::to_string(f.task_id) + "/fail";
  std::string body = json{{"lease", f.lease},
                          {"worker", f.worker},
                          {"outcome", f.outcome},
                          {"error", f.error},
                          {"traceback", f.traceback},
                          {"started_ms", f.started_ms},
                          {"elapsed_ms", f.elapsed_ms}}
                         .dump(-1, ' ', false, json::error_handler_t::replace);
  LOTE_ASSIGN_OR_RETURN(json r, impl_->Call("POST " + path, [&] {
    return impl_->http.Post(path, body, kJson);
  }));
  return r.is_object() ? r.value("status", std::string()) : std::string();
}

}  // namespace lote::agent
