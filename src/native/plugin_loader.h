// Native scoring plugins (include/lote/plugin.h, ABI version 1) in the native
// worker.
//
// PluginLibrary opens a shared library (dlopen, RTLD_NOW | RTLD_LOCAL),
// checks its ABI version before anything else, then resolves the other
// functions. Plugin owns one initialized plugin state: Load() opens and calls
// lote_plugin_init once, Run() scores mini-batches, the destructor calls
// lote_plugin_shutdown and unloads the library.
//
// Init options (the init message's "options" when "kind" is "plugin"):
//   "library":        the shared library; absolute, or relative to the init
//                     message's code_dir
//   "plugin_options": a JSON object handed to lote_plugin_init as text
//                     (absent: "{}")
//
// Errors name the library path: a library that cannot be opened (dlerror), a
// missing symbol, an ABI version mismatch (both versions), a failed init (the
// plugin's message). A failed run is an Error too (the worker sends
// run_failed); misuse of the result callbacks (a row without its '\n', an item
// index out of range) fails the run with a message naming it.
//
// Thread-compatible: the worker calls one Plugin from one thread at a time, as
// the ABI requires.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"
#include "lote/plugin.h"
#include "native/tabular_scorer.h"

namespace lote::native {

inline constexpr const char* kPluginKind = "plugin";

struct PluginOptions {
  std::filesystem::path library;  // absolute
  std::filesystem::path model_dir;
  std::string options_json = "{}";
};

// True when the init message asks for a plugin (options.kind == "plugin").
bool IsPluginInit(const nlohmann::json& init);

// Reads PluginOptions from an init message. InvalidArgument naming the field.
Result<PluginOptions> PluginOptionsFromInit(const nlohmann::json& init);

// An opened plugin library whose ABI version matches and whose functions are
// all present. Unloaded (dlclose) when destroyed.
class PluginLibrary {
 public:
  static Result<std::unique_ptr<PluginLibrary>> Open(const std::filesystem::path& path);
  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const std::filesystem::path& path() const { return path_; }

  struct Functions {
    int (*abi_version)(void) = nullptr;
    void* (*init)(const char*, const char*, char**) = nullptr;
    int (*run)(void*, const lote_mini_batch*, lote_results*) = nullptr;
    const char* (*last_error)(void*) = nullptr;
    void (*shutdown)(void*) = nullptr;
  };
  const Functions& functions() const { return fn_; }

 private:
  PluginLibrary(std::filesystem::path path, void* handle)
      : path_(std::move(path)), handle_(handle) {}

  std::filesystem::path path_;
  void* handle_;
  Functions fn_;
};

// One mini-batch scored by a plugin.
struct PluginBatchResult {
  BatchResult result;
  std::optional<std::string> header;  // set_header's, nullopt for plain lines
};

class Plugin {
 public:
  // Opens the library and initializes the plugin (lote_plugin_init, once).
  static Result<std::unique_ptr<Plugin>> Load(const PluginOptions& options);
  ~Plugin();  // lote_plugin_shutdown, then the library is unloaded
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  // Scores the items of one mini-batch: [{"path"}, or {"path", "offset",
  // "length", "header"?}] (already validated to have string paths). Item
  // failures are in the result; an Error fails the attempt (run_failed).
  Result<PluginBatchResult> Run(const nlohmann::json& items);

 private:
  Plugin(std::unique_ptr<PluginLibrary> library, void* state)
      : library_(std::move(library)), state_(state) {}

  std::unique_ptr<PluginLibrary> library_;
  void* state_;
};

}  // namespace lote::native
