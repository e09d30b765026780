#include "native/plugin_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <exception>
#include <type_traits>
#include <vector>

#include "common/fs_name.h"
#include "common/util.h"

namespace lote::native {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string DlError() {
  const char* e = ::dlerror();
  return e != nullptr ? e : "unknown dynamic loader error";
}

// item_failed's reports; item_errors entries are made after the run, where the
// items' paths are at hand.
struct ItemError {
  size_t index;
  std::string error;
};

// The run's results as the callbacks deliver them. A misuse of the callbacks
// is remembered (the first one) and fails the run once the plugin returns:
// the callbacks cannot report errors, and must not throw into C frames (they
// are noexcept: only an allocation failure building a message could still
// throw, and it ends the worker, whose attempt is then retried).
struct Collector {
  size_t items = 0;
  PluginBatchResult out;
  bool counted = false;
  std::vector<bool> failed;  // per item, for the default counts
  std::vector<ItemError> item_errors;
  std::string misuse;

  void Misuse(std::string what) {
    if (misuse.empty()) misuse = std::move(what);
  }
};

Collector* From(void* host) {
  return static_cast<Collector*>(host);
}

void AppendRow(void* host, const char* row, size_t len) noexcept {
  Collector* c = From(host);
  if (!c->misuse.empty()) return;
  if (row == nullptr || len == 0 || row[len - 1] != '\n') {
    c->Misuse("append_row was given " +
              (row == nullptr || len == 0 ? std::string("no bytes")
                                          : "a row that does not end in '\\n'") +
              "; every row must end with '\\n'");
    return;
  }
  try {
    c->out.result.payload.append(row, len);
  } catch (const std::exception& e) {
    c->Misuse(std::string("append_row: cannot keep the rows: ") + e.what());
  }
}

void SetHeader(void* host, const char* header) noexcept {
  Collector* c = From(host);
  if (!c->misuse.empty()) return;
  if (header == nullptr) {
    c->out.header.reset();
    return;
  }
  try {
    c->out.header = header;
  } catch (const std::exception& e) {
    c->Misuse(std::string("set_header: ") + e.what());
  }
}

void Count(void* host, int64_t succeeded, int64_t failed) noexcept {
  Collector* c = From(host);
  if (!c->misuse.empty()) return;
  if (succeeded < 0 || failed < 0) {
    c->Misuse("count was given negative counts (" + std::to_string(succeeded) + ", " +
              std::to_string(failed) + ")");
    return;
  }
  c->counted = true;
  c->out.result.succeeded += succeeded;
  c->out.result.failed += failed;
}

void ItemFailed(void* host, size_t index, const char* error) noexcept {
  Collector& c = *From(host);
  if (!c.misuse.empty()) return;
  if (index >= c.items) {
    c.Misuse("item_failed was given item " + std::to_string(index) + " of a mini-batch of " +
             std::to_string(c.items) + " items");
    return;
  }
  try {
    c.failed[index] = true;
    c.item_errors.push_back({index, error != nullptr && *error != '\0'
                                        ? std::string(error)
                                        : std::string("the plugin gave no message")});
  } catch (const std::exception& e) {
    c.Misuse(std::string("item_failed: ") + e.what());
  }
}

// A range item's offset or length; an Error when present and not a
// non-negative integer.
Result<uint64_t> U64(const json& item, size_t index, const char* key, uint64_t absent) {
  auto it = item.find(key);
  if (it == item.end()) return absent;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer() && it->get<int64_t>() >= 0) return it->get<uint64_t>();
  return InvalidArgument("item " + std::to_string(index) + ": " + key + " " + it->dump() +
                         " is not a byte count");
}

}  // namespace

bool IsPluginInit(const json& init) {
  auto o = init.find("options");
  if (o == init.end() || !o->is_object()) return false;
  auto k = o->find("kind");
  return k != o->end() && *k == kPluginKind;
}

Result<PluginOptions> PluginOptionsFromInit(const json& init) {
  PluginOptions p;
  const json& o = init["options"];  // IsPluginInit: an object
  auto lib = o.find("library");
  if (lib == o.end() || !lib->is_string() || lib->get<std::string>().empty()) {
    return InvalidArgument("a plugin needs options.library: the path of its shared library",
                           "options.library");
  }
  p.library = lib->get<std::string>();
  if (p.library.is_relative()) {
    auto code = init.find("code_dir");
    if (code == init.end() || !code->is_string()) {
      return InvalidArgument("options.library " + Quote(p.library.string()) +
                                 " is relative and the init message has no code_dir",
                             "options.library");
    }
    p.library = fs::path(code->get<std::string>()) / p.library;
  }
  if (auto m = init.find("model_dir"); m != init.end() && m->is_string()) {
    p.model_dir = m->get<std::string>();
  }
  if (auto po = o.find("plugin_options"); po != o.end() && !po->is_null()) {
    if (!po->is_object()) {
      return InvalidArgument("options.plugin_options must be a JSON object, not " + po->dump(),
                             "options.plugin_options");
    }
    p.options_json = po->dump();
  }
  return p;
}

Result<std::unique_ptr<PluginLibrary>> PluginLibrary::Open(const fs::path& path) {
  const std::string where = "plugin " + Quote(path.string());
  ::dlerror();  // clear a stale error
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return InvalidArgument(where + ": cannot load the library: " + DlError());
  }
  std::unique_ptr<PluginLibrary> lib(new PluginLibrary(path, handle));

  auto resolve = [&](const char* name, auto** fn) -> Status {
    ::dlerror();
    void* sym = ::dlsym(handle, name);
    if (sym == nullptr) {
      return InvalidArgument(where + ": missing symbol '" + name + "' (" + DlError() +
                             "); a plugin exports the functions of lote/plugin.h with C linkage");
    }
    *fn = reinterpret_cast<std::remove_pointer_t<decltype(fn)>>(sym);
    return {};
  };
  // The version first: another version's functions may have other signatures.
  LOTE_TRY(resolve("lote_plugin_abi_version", &lib->fn_.abi_version));
  const int version = lib->fn_.abi_version();
  if (version != LOTE_PLUGIN_ABI_VERSION) {
    return InvalidArgument(where + " was built for plugin ABI version " + std::to_string(version) +
                           ", but this lote speaks version " +
                           std::to_string(LOTE_PLUGIN_ABI_VERSION) +
                           "; rebuild it against this lote's lote/plugin.h");
  }
  LOTE_TRY(resolve("lote_plugin_init", &lib->fn_.init));
  LOTE_TRY(resolve("lote_plugin_run", &lib->fn_.run));
  LOTE_TRY(resolve("lote_plugin_last_error", &lib->fn_.last_error));
  LOTE_TRY(resolve("lote_plugin_shutdown", &lib->fn_.shutdown));
  return lib;
}

PluginLibrary::~PluginLibrary() {
  ::dlclose(handle_);
}

Result<std::unique_ptr<Plugin>> Plugin::Load(const PluginOptions& options) {
  LOTE_ASSIGN_OR_RETURN(auto library, PluginLibrary::Open(options.library));
  char* error = nullptr;
  void* state =
      library->functions().init(options.model_dir.c_str(), options.options_json.c_str(), &error);
  if (state == nullptr) {
    std::string message = error != nullptr && *error != '\0'
                              ? std::string(error)
                              : std::string("lote_plugin_init returned NULL without a message");
    std::free(error);
    return InvalidArgument("plugin " + Quote(options.library.string()) +
                           ": init failed for model " + Quote(options.model_dir.string()) + ": " +
                           message);
  }
  std::free(error);  // a plugin may set it and still succeed
  return std::unique_ptr<Plugin>(new Plugin(std::move(library), state));
}

Plugin::~Plugin() {
  library_->functions().shutdown(state_);
}

Result<PluginBatchResult> Plugin::Run(const json& items) {
  const std::string where = "plugin " + Quote(library_->path().string());
  std::vector<lote_item> batch_items;
  batch_items.reserve(items.size());
  // The bytes of each path and header (common/fs_name.h byte fields), alive
  // for the run: a plugin opens the file by the name the file system has.
  std::vector<std::string> paths, headers;
  paths.reserve(items.size());
  headers.reserve(items.size());
  for (const json& i : items) {
    const std::string index = "item " + std::to_string(batch_items.size());
    const bool range = i.contains("offset") || i.contains("length");
    auto path = ItemPath(i);
    if (!path) return path.error().WithContext(index).WithContext(where);
    paths.push_back(std::move(*path));
    lote_item item{.path = paths.back().c_str(),
                   .offset = 0,
                   .length = LOTE_ITEM_WHOLE_FILE,
                   .header = nullptr};
    if (range) {
      auto offset = U64(i, batch_items.size(), "offset", 0);
      auto length = U64(i, batch_items.size(), "length", LOTE_ITEM_WHOLE_FILE);
      if (!offset || !length) {
        return (offset ? length.error() : offset.error()).WithContext(where);
      }
      item.offset = *offset;
      item.length = *length;
      auto header = ItemHeader(i);
      if (!header) return header.error().WithContext(index).WithContext(where);
      if (*header) {
        headers.push_back(std::move(**header));
        item.header = headers.back().c_str();
      }
    }
    batch_items.push_back(item);
  }
  const lote_mini_batch batch{.items = batch_items.data(), .count = batch_items.size()};

  Collector c;
  c.items = batch_items.size();
  c.failed.assign(batch_items.size(), false);
  lote_results out{.host = &c,
                   .append_row = AppendRow,
                   .set_header = SetHeader,
                   .item_failed = ItemFailed,
                   .count = Count};
  const PluginLibrary::Functions& fn = library_->functions();
  const int rc = fn.run(state_, &batch, &out);
  if (rc != 0) {
    const char* e = fn.last_error(state_);
    return Internal(where + ": run failed: " +
                    (e != nullptr && *e != '\0' ? std::string(e)
                                                : "lote_plugin_run returned " + std::to_string(rc) +
                                                      " without a message"));
  }
  if (!c.misuse.empty()) return Internal(where + ": run failed: " + c.misuse);

  for (ItemError& e : c.item_errors) {
    c.out.result.item_errors.push_back(
        {{"item", ItemDisplayPath(items[e.index])}, {"error", std::move(e.error)}});
  }
  if (!c.counted) {
    for (bool f : c.failed) ++(f ? c.out.result.failed : c.out.result.succeeded);
  }
  return std::move(c.out);
}

}  // namespace lote::native
