// lote model … and lote data …: named, versioned assets.
#include "cli/command_context.h"
#include "cli/confirm.h"
#include "cli/uploads.h"
#include "common/util.h"
#include "model/specs.h"

namespace lote::cli {

namespace fs = std::filesystem;

namespace {

struct AssetArgs {
  std::string name, version, path, type, description, file, datastore;
  bool yes = false;
};

// Flags over --file; a relative path in the file is relative to the file.
Result<nlohmann::json> AssetSpec(const AssetArgs& a, std::optional<model::YamlDocument>& doc) {
  nlohmann::json spec = nlohmann::json::object();
  if (!a.file.empty()) {
    LOTE_ASSIGN_OR_RETURN(doc, model::LoadYamlFile(a.file));
    spec = doc->value;
    for (const char* key : {"path", "local_path"}) {
      if (spec.contains(key) && spec[key].is_string()) {
        std::string p = spec[key];
        if (!p.starts_with("http") && !p.starts_with("azureml:") && fs::path(p).is_relative()) {
          spec[key] = (fs::path(a.file).parent_path() / p).lexically_normal().string();
        }
      }
    }
  }
  if (!a.name.empty()) spec["name"] = a.name;
  if (!a.version.empty()) spec["version"] = a.version;
  if (!a.path.empty()) spec["path"] = a.path;
  if (!a.type.empty()) spec["type"] = a.type;
  if (!a.description.empty()) spec["description"] = a.description;
  return spec;
}

std::string VersionOrLatest(const std::string& v) { return v.empty() ? "latest" : v; }

// kind: "model" or "data asset", for the delete prompt.
void AddCommonReadCommands(CLI::App* group, const std::string& route, const std::string& kind,
                           std::shared_ptr<AssetArgs> args, CommandContext& ctx) {
  auto* show = group->add_subcommand("show", "Show a version (the latest when --version is omitted)");
  show->add_option("-n,--name", args->name, "Name")->required();
  show->add_option("-v,--version", args->version, "Version");
  show->callback([args, route, &ctx] {
    ctx.Emit(ctx.Call([&](ApiClient& c) {
      return c.Get(route + "/" + EncodePath(args->name) + "/versions/" +
                   EncodePath(VersionOrLatest(args->version)));
    }));
  });
  auto* list = group->add_subcommand("list", "List (all versions of --name, or everything)");
  list->add_option("-n,--name", args->name, "Name");
  list->callback([args, route, &ctx] {
    ctx.Emit(ctx.Call([&](ApiClient& c) {
      return c.Get(args->name.empty() ? route : route + "/" + EncodePath(args->name) + "/versions");
    }));
  });
  auto* del = group->add_subcommand("delete", "Delete a version");
  del->add_option("-n,--name", args->name, "Name")->required();
  del->add_option("-v,--version", args->version, "Version")->required();
  del->add_flag("-y,--yes", args->yes, "Do not prompt for confirmation");
  del->callback([args, route, kind, &ctx] {
    const std::string what = kind + " '" + args->name + "' version " + args->version;
    if (auto ok = ConfirmDelete(args->yes, "Delete " + what + "?", what, TerminalIo()); !ok) return ctx.Fail(ok.error());
    ctx.Emit(ctx.Call([&](ApiClient& c) {
      return c.Delete(route + "/" + EncodePath(args->name) + "/versions/" +
                      EncodePath(args->version));
    }));
  });
}

void AddCreateFlags(CLI::App* create, AssetArgs& a) {
  create->add_option("-n,--name", a.name, "Name");
  create->add_option("-v,--version", a.version, "Version (default: the next integer)");
  create->add_option("-p,--path", a.path, "Local file or folder (uploaded), or a URL");
  create->add_option("--type", a.type, "Asset type");
  create->add_option("--description", a.description, "Description");
  create->add_option("-f,--file", a.file, "YAML file describing the asset");
}

}  // namespace

void AddModelCommands(CLI::App& app, CommandContext& ctx) {
  auto* group = app.add_subcommand("model", "Manage registered models")->require_subcommand(0, 1);
  auto args = std::make_shared<AssetArgs>();
  auto* create = group->add_subcommand("create", "Register a model from local files");
  AddCreateFlags(create, *args);
  create->callback([args, &ctx] {
    std::optional<model::YamlDocument> doc;
    auto spec = AssetSpec(*args, doc);
    if (!spec) return ctx.Fail(spec.error());
    if (spec->contains("path") && !spec->contains("local_path")) {
      (*spec)["local_path"] = (*spec)["path"];
      spec->erase("path");
    }
    auto norm = model::NormalizeModel(*spec);
    if (!norm) return ctx.Fail(norm.error(), doc ? &*doc : nullptr);
    if (!norm->contains("local_path")) {
      return ctx.Fail(InvalidArgument("model '" + (*norm)["name"].get<std::string>() +
                                      "' needs its files: give --path <file or folder>", "path"));
    }
    auto client = ctx.Client();
    if (!client) return ctx.Fail(client.error());
    ctx.Emit(RegisterLocalModel(**client, *norm, (*norm)["local_path"].get<std::string>(), false));
  });
  AddCommonReadCommands(group, "/api/v1/models", "model", args, ctx);
}

void AddDataCommands(CLI::App& app, CommandContext& ctx) {
  auto* group = app.add_subcommand("data", "Manage data assets")->require_subcommand(0, 1);
  auto args = std::make_shared<AssetArgs>();
  auto* create = group->add_subcommand("create", "Register a data asset (local paths are uploaded)");
  AddCreateFlags(create, *args);
  create->add_option("--datastore", args->datastore,
                     "Datastore: with a relative --path, the path inside it; with a local "
                     "path, where to upload (default workspaceblobstore)");
  create->callback([args, &ctx] {
    std::optional<model::YamlDocument> doc;
    auto spec = AssetSpec(*args, doc);
    if (!spec) return ctx.Fail(spec.error());
    std::string datastore = args->datastore;
    if (datastore.starts_with("azureml:")) datastore = datastore.substr(8);
    std::string path = spec->value("path", "");
    bool remote = path.starts_with("http://") || path.starts_with("https://") ||
                  path.starts_with("azureml://");
    if (!datastore.empty() && !remote) {  // a path inside a registered datastore
      spec->erase("path");
      (*spec)["datastore"] = datastore;
      (*spec)["relative_path"] = path;
    }
    auto norm = model::NormalizeDataAsset(*spec);
    if (!norm) return ctx.Fail(norm.error(), doc ? &*doc : nullptr);
    auto client = ctx.Client();
    if (!client) return ctx.Fail(client.error());
    if (norm->contains("local_path")) {
      // A wrong explicit type is refused before anything is uploaded.
      std::error_code ec;
      bool is_file = fs::is_regular_file((*norm)["local_path"].get<std::string>(), ec);
      if (norm->contains("type") && (*norm)["type"] == (is_file ? "uri_folder" : "uri_file")) {
        return ctx.Fail(InvalidArgument("type is " + (*norm)["type"].get<std::string>() + " but '" +
                                            (*norm)["local_path"].get<std::string>() + "' is a " +
                                            (is_file ? "file" : "folder"), "type"),
                        doc ? &*doc : nullptr);
      }
      std::string ds = datastore.empty() ? "workspaceblobstore" : datastore;
      auto rel = UploadToDatastore(**client, ds, "LocalUpload/" + RandomHex(8),
                                   (*norm)["local_path"].get<std::string>());
      if (!rel) return ctx.Fail(rel.error());
      norm->erase("local_path");
      (*norm)["datastore"] = ds;
      (*norm)["relative_path"] = *rel;
      norm->erase("path");
    }
    ctx.Emit((*client)->Post("/api/v1/data", *norm));
  });
  AddCommonReadCommands(group, "/api/v1/data", "data asset", args, ctx);
}

}  // namespace lote::cli
