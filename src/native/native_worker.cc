#include "native/native_worker.h"

#include <fcntl.h>
#include <unistd.h>
#include <xgboost/c_api.h>

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "native/plugin_loader.h"
#include "native/tabular_scorer.h"
#include "runtime/frame.h"

namespace lote::native {

using nlohmann::json;

namespace {

std::string XgboostVersion() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

Result<int> FdFromEnv(const char* var) {
  const char* value = std::getenv(var);
  if (value == nullptr || *value == '\0') {
    return InvalidArgument(std::string(var) +
                           " is not set; `lote worker` is started by `lote agent`");
  }
  int fd = -1;
  std::string_view v(value);
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), fd);
  if (ec != std::errc() || end != v.data() + v.size() || fd < 0 || ::fcntl(fd, F_GETFD) < 0) {
    return InvalidArgument(std::string(var) + "='" + value + "' is not an open file descriptor");
  }
  return fd;
}

bool ValidItems(const json& msg) {
  auto items = msg.find("items");
  if (items == msg.end() || !items->is_array()) return false;
  for (const json& i : *items) {
    if (!i.is_object() || !i.contains("path") || !i["path"].is_string()) return false;
  }
  return true;
}

// What the worker scores with, chosen by the init options' kind: a plugin
// (native/plugin_loader.h) or the built-in tabular scorer.
class Engine {
 public:
  struct Scored {
    BatchResult result;
    json header;  // a string, or null for plain lines
  };
  virtual ~Engine() = default;
  // An Error fails the mini-batch attempt (run_failed).
  virtual Result<Scored> Run(const json& items) = 0;
  // Takes back a result's payload once it is sent, to reuse its memory.
  virtual void Recycle(std::string /*payload*/) {}
};

class TabularEngine final : public Engine {
 public:
  explicit TabularEngine(std::unique_ptr<TabularScorer> s) : scorer_(std::move(s)) {}
  Result<Scored> Run(const json& items) override {
    BatchResult result = scorer_->Run(items);
    // Empty until a TorchScript model's first prediction; no rows then.
    const std::string& header = scorer_->header();
    return Scored{std::move(result), header.empty() ? json(nullptr) : json(header)};
  }
  void Recycle(std::string payload) override { scorer_->RecyclePayload(std::move(payload)); }

 private:
  std::unique_ptr<TabularScorer> scorer_;
};

class PluginEngine final : public Engine {
 public:
  explicit PluginEngine(std::unique_ptr<Plugin> p) : plugin_(std::move(p)) {}
  Result<Scored> Run(const json& items) override {
    LOTE_ASSIGN_OR_RETURN(PluginBatchResult r, plugin_->Run(items));
    return Scored{std::move(r.result), r.header ? json(*r.header) : json(nullptr)};
  }

 private:
  std::unique_ptr<Plugin> plugin_;
};

Result<std::unique_ptr<Engine>> CreateEngine(const json& init) {
  if (init.value("protocol", json()) != runtime::kProtocolVersion) {
    return InvalidArgument("protocol " + init.value("protocol", json()).dump() +
                           " is not supported: this worker speaks protocol " +
                           std::to_string(runtime::kProtocolVersion));
  }
  if (IsPluginInit(init)) {
    LOTE_ASSIGN_OR_RETURN(PluginOptions o, PluginOptionsFromInit(init));
    LOTE_ASSIGN_OR_RETURN(auto plugin, Plugin::Load(o));
    return std::make_unique<PluginEngine>(std::move(plugin));
  }
  LOTE_ASSIGN_OR_RETURN(ScorerOptions o, ScorerOptionsFromInit(init));
  LOTE_ASSIGN_OR_RETURN(auto scorer, TabularScorer::Create(o));
  return std::make_unique<TabularEngine>(std::move(scorer));
}

}  // namespace

Result<NativeWorkerOptions> NativeWorkerOptionsFromEnv() {
  NativeWorkerOptions o;
  LOTE_ASSIGN_OR_RETURN(o.in_fd, FdFromEnv("LOTE_PROTOCOL_IN_FD"));
  LOTE_ASSIGN_OR_RETURN(o.out_fd, FdFromEnv("LOTE_PROTOCOL_OUT_FD"));
  return o;
}

int RunNativeWorker(const NativeWorkerOptions& options) {
  std::ostream& log = options.log != nullptr ? *options.log : std::cerr;
  auto complain = [&log](const std::string& what) {
    log << "lote worker: " << what << std::endl;
    return kWorkerExitProtocolError;
  };
  auto send = [&](const json& msg, std::string_view payload = {}) {
    Status st = runtime::WriteFrame(options.out_fd, msg, payload);
    if (!st) log << "lote worker: cannot write to the agent: " << st.error().message() << std::endl;
    return st.has_value();
  };

  if (!send({{"type", "hello"},
             {"protocol", runtime::kProtocolVersion},
             {"runtime", "native"},
             {"pid", static_cast<int64_t>(::getpid())},
             {"xgboost", XgboostVersion()}})) {
    return kWorkerExitProtocolError;
  }
  std::unique_ptr<Engine> engine;
  while (true) {
    auto frame = runtime::ReadFrame(options.in_fd, -1);
    if (!frame) {
      if (runtime::IsClosed(frame.error())) return kWorkerExitOk;  // the agent is gone
      return complain("protocol error: " + frame.error().message());
    }
    const json& msg = frame->msg;
    const std::string type = msg["type"].get<std::string>();

    if (type == "init" && engine == nullptr) {
      Result<std::unique_ptr<Engine>> created = CreateEngine(msg);
      if (!created) {
        send({{"type", "init_failed"}, {"error", created.error().message()}, {"traceback", ""}});
        return kWorkerExitInitFailed;
      }
      engine = std::move(*created);
      if (!send({{"type", "ready"}})) return kWorkerExitProtocolError;

    } else if (type == "run" && engine != nullptr) {
      if (!ValidItems(msg)) {
        return complain(R"(protocol error: a run message needs items: [{"path": …}, …])");
      }
      Result<Engine::Scored> r = engine->Run(msg["items"]);
      auto run_failed = [&](const std::string& error) {
        json failed = {{"type", "run_failed"},
                       {"mini_batch", msg.value("mini_batch", json())},
                       {"error", error},
                       {"traceback", ""}};
        runtime::BoundMessageTexts(failed);
        return send(failed);
      };
      if (!r) {
        if (!run_failed(r.error().message())) return kWorkerExitProtocolError;
        continue;
      }
      json reply = {{"type", "result"},
                    {"mini_batch", msg.value("mini_batch", json())},
                    {"succeeded", r->result.succeeded},
                    {"failed", r->result.failed},
                    {"item_errors", std::move(r->result.item_errors)},
                    {"header", std::move(r->header)}};
      // No input may make the answer larger than a frame (a huge line quoted
      // in an error, a million bad rows): bounded, and if it is still
      // refused, nothing was written and the attempt fails with the reason.
      runtime::BoundMessageTexts(reply);
      Status st = runtime::WriteFrame(options.out_fd, reply, r->result.payload);
      engine->Recycle(std::move(r->result.payload));
      if (!st && runtime::IsRefusedMessage(st.error())) {
        if (!run_failed("the result cannot be sent to the agent: " + st.error().message())) {
          return kWorkerExitProtocolError;
        }
        continue;
      }
      if (!st) {
        log << "lote worker: cannot write to the agent: " << st.error().message() << std::endl;
        return kWorkerExitProtocolError;
      }

    } else if (type == "shutdown") {
      return kWorkerExitOk;

    } else {
      return complain("protocol error: unexpected message '" + type + "' " +
                      (engine == nullptr ? "before init" : "after init"));
    }
  }
}

}  // namespace lote::native
