// lote datastore create|show|list|delete
#include "cli/command_context.h"
#include "cli/confirm.h"
#include "model/specs.h"

namespace lote::cli {

namespace fs = std::filesystem;

void AddDatastoreCommands(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string name, type, path, description, file;
    bool yes = false;
    bool mounted_on_nodes = false;
  };
  auto args = std::make_shared<Args>();
  auto* group = app.add_subcommand("datastore", "Manage datastores (folders lote reads and writes)")
                    ->require_subcommand(0, 1);

  auto* create = group->add_subcommand("create", "Register a folder as a datastore");
  create->add_option("-n,--name", args->name, "Datastore name");
  create->add_option("--type", args->type, "local (a folder, possibly a shared mount)");
  create->add_option("-p,--path", args->path, "The folder");
  create->add_option("--description", args->description, "Description");
  create->add_option("-f,--file", args->file, "YAML file describing the datastore");
  create->add_flag("--mounted-on-nodes", args->mounted_on_nodes,
                   "The folder is at the same path on every compute node (a shared mount): remote agents "
                   "read inputs there directly");
  create->callback([args, &ctx] {
    nlohmann::json spec = nlohmann::json::object();
    std::optional<model::YamlDocument> doc;
    if (!args->file.empty()) {
      auto loaded = model::LoadYamlFile(args->file);
      if (!loaded) return ctx.Fail(loaded.error());
      doc = std::move(*loaded);
      spec = doc->value;
    }
    if (!args->name.empty()) spec["name"] = args->name;
    if (!args->type.empty()) spec["type"] = args->type;
    if (!args->path.empty()) spec["path"] = args->path;
    if (!args->description.empty()) spec["description"] = args->description;
    if (args->mounted_on_nodes) spec["mounted_on_nodes"] = true;
    auto norm = model::NormalizeDatastore(spec);
    if (!norm) return ctx.Fail(norm.error(), doc ? &*doc : nullptr);
    if (!norm->contains("path") || !(*norm)["path"].is_string()) {
      return ctx.Fail(InvalidArgument("a local datastore needs --path <folder>", "path"));
    }
    // The server resolves nothing relative to its own working directory.
    fs::path p = (*norm)["path"].get<std::string>();
    if (p.is_relative()) {
      fs::path base = doc ? fs::absolute(args->file).parent_path() : fs::current_path();
      (*norm)["path"] = (base / p).lexically_normal().string();
    }
    norm->erase("is_default");
    ctx.Emit(ctx.Call([&](ApiClient& c) { return c.Post("/api/v1/datastores", *norm); }));
  });

  auto* show = group->add_subcommand("show", "Show a datastore");
  show->add_option("-n,--name", args->name, "Datastore name")->required();
  show->callback([args, &ctx] {
    ctx.Emit(ctx.Call(
        [&](ApiClient& c) { return c.Get("/api/v1/datastores/" + EncodePath(args->name)); }));
  });

  auto* list = group->add_subcommand("list", "List datastores");
  list->callback(
      [&ctx] { ctx.Emit(ctx.Call([&](ApiClient& c) { return c.Get("/api/v1/datastores"); })); });

  auto* del = group->add_subcommand("delete", "Unregister a datastore (its files stay)");
  del->add_option("-n,--name", args->name, "Datastore name")->required();
  del->add_flag("-y,--yes", args->yes, "Do not prompt for confirmation");
  del->callback([args, &ctx] {
    const std::string what = "datastore '" + args->name + "'";
    if (auto ok = ConfirmDelete(args->yes, "Unregister " + what + "? (its files stay)", what, TerminalIo()); !ok) {
      return ctx.Fail(ok.error());
    }
    ctx.Emit(ctx.Call(
        [&](ApiClient& c) { return c.Delete("/api/v1/datastores/" + EncodePath(args->name)); }));
  });
}

}  // namespace lote::cli
