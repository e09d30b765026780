#include "native/mlmodel.h"

#include <optional>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/util.h"

namespace lote::native {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string LineOf(const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  return m.is_null() ? "" : "line " + std::to_string(m.line + 1) + ": ";
}

// A scalar as its text; a null as ""; a sequence or mapping as flow YAML.
std::string NodeText(const YAML::Node& node) {
  if (node.IsNull()) return "";
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

Result<std::vector<ColumnSpec>> ParseSignatureField(const YAML::Node& sig, const char* key,
                                                    std::string_view file) {
  YAML::Node node = sig[key];
  if (!node || node.IsNull()) return std::vector<ColumnSpec>{};
  const std::string where = std::string(file) + ": " + LineOf(node) + "signature." + key + ": ";
  if (!node.IsScalar()) {
    return InvalidArgument(where + "must be a JSON string (as MLflow writes it)");
  }
  auto cols = ParseSignatureColumns(node.Scalar());
  if (!cols) return cols.error().WithContext(where.substr(0, where.size() - 2));
  return cols;
}

const std::array<std::string_view, 6> kXgboostExtensions = {".json", ".ubj", ".model",
                                                            ".xgb",  ".bst", ".bin"};
const std::array<std::string_view, 4> kTorchScriptExtensions = {".pt", ".pth", ".ptl",
                                                                ".torchscript"};

// The one file in dir (or dir itself when it is a file) whose extension is
// one of `extensions`.
template <size_t N>
Result<fs::path> FindModelFile(const fs::path& dir, const std::array<std::string_view, N>& exts,
                               std::string_view what) {
  std::error_code ec;
  if (fs::is_regular_file(dir, ec)) return dir;
  if (!fs::is_directory(dir, ec)) {
    return InvalidArgument("model path " + Quote(dir.string()) + " does not exist");
  }
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    if (!entry.is_regular_file() || p.filename().string().starts_with('.')) continue;
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (std::find(exts.begin(), exts.end(), ext) != exts.end()) found.push_back(p);
  }
  if (ec) return IoError("cannot list " + Quote(dir.string()) + ": " + ec.message());
  std::string wanted;
  for (auto e : exts) wanted += (wanted.empty() ? "" : ", ") + std::string(e);
  if (found.empty()) {
    return InvalidArgument("model folder " + Quote(dir.string()) + " holds no " +
                           std::string(what) + " model file (" + wanted + ")");
  }
  if (found.size() > 1) {
    std::sort(found.begin(), found.end());
    std::string names;
    for (const auto& p : found) names += (names.empty() ? "" : ", ") + p.filename().string();
    return InvalidArgument("model folder " + Quote(dir.string()) + " holds several " +
                           std::string(what) + " model files (" + names +
                           "); register the one file as the model's path");
  }
  return found.front();
}

Result<fs::path> FlavorFile(const fs::path& dir, const MlModel& ml, std::string_view flavor,
                            std::string_view key, std::string_view default_name = {}) {
  auto name = ml.FlavorKey(flavor, key);
  if (!name || name->empty()) {
    if (default_name.empty()) {
      return InvalidArgument((dir / "MLmodel").string() + ": flavors." + std::string(flavor) + "." +
                             std::string(key) + ": missing (the model file's name)");
    }
    name = std::string(default_name);
  }
  fs::path file = dir / *name;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return InvalidArgument((dir / "MLmodel").string() + ": flavors." + std::string(flavor) + "." +
                           std::string(key) + ": " + Quote(*name) + " does not exist in " +
                           Quote(dir.string()));
  }
  return file;
}

Result<ModelKind> DetectMlflow(const fs::path& dir) {
  LOTE_ASSIGN_OR_RETURN(MlModel ml, LoadMlModel(dir / "MLmodel"));
  ModelKind out;
  out.signature = ml.signature;
  const std::string loader = ml.LoaderModule().value_or("");
  if (ml.HasFlavor("xgboost")) {
    out.kind = "mlflow_xgboost";
    LOTE_ASSIGN_OR_RETURN(out.model_file, FlavorFile(dir, ml, "xgboost", "data"));
  } else if (loader == "mlflow.xgboost") {
    out.kind = "mlflow_xgboost";
    LOTE_ASSIGN_OR_RETURN(out.model_file, FlavorFile(dir, ml, "python_function", "data"));
  } else if (ml.HasFlavor("sklearn")) {
    out.kind = "mlflow_sklearn";
    LOTE_ASSIGN_OR_RETURN(out.model_file,
                          FlavorFile(dir, ml, "sklearn", "pickled_model", "model.pkl"));
  } else if (loader == "mlflow.sklearn") {
    out.kind = "mlflow_sklearn";
    LOTE_ASSIGN_OR_RETURN(out.model_file,
                          FlavorFile(dir, ml, "python_function", "model_path", "model.pkl"));
  } else {
    std::string names;
    for (const auto& [name, keys] : ml.flavors) {
      if (name == "python_function") continue;
      names += (names.empty() ? "" : ", ") + Quote(name);
    }
    if (names.empty()) {
      names =
          ml.HasFlavor("python_function")
              ? Quote("python_function" + (loader.empty() ? std::string(" without loader_module")
                                                          : " with loader_module " + loader))
              : std::string("(none)");
    }
    return InvalidArgument("model folder " + Quote(dir.string()) + ": MLmodel flavor(s) " + names +
                           " are not served by lote; served: xgboost, sklearn (python_function "
                           "with loader_module mlflow.sklearn); a model saved with "
                           "torch.jit.save is served as model type torchscript");
  }
  return out;
}

}  // namespace

bool Signature::HasNamedInputs() const {
  return !inputs.empty() && std::all_of(inputs.begin(), inputs.end(),
                                        [](const ColumnSpec& c) { return !c.name.empty(); });
}

std::optional<std::string> MlModel::FlavorKey(std::string_view flavor, std::string_view key) const {
  auto f = flavors.find(flavor);
  if (f == flavors.end()) return std::nullopt;
  auto k = f->second.find(key);
  if (k == f->second.end()) return std::nullopt;
  return k->second;
}

Result<std::vector<ColumnSpec>> ParseSignatureColumns(std::string_view json_text) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("not valid JSON: ") + e.what());
  }
  if (!doc.is_array()) return InvalidArgument("must be a JSON array of columns");
  std::vector<ColumnSpec> cols;
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& c = doc[i];
    const std::string at = "[" + std::to_string(i) + "]: ";
    if (!c.is_object()) return InvalidArgument(at + "must be an object");
    auto type = c.find("type");
    if (type == c.end() || !type->is_string()) {
      return InvalidArgument(at + "needs a string \"type\"");
    }
    ColumnSpec spec{.name = "", .type = type->get<std::string>()};
    if (auto name = c.find("name"); name != c.end() && !name->is_null()) {
      if (!name->is_string()) return InvalidArgument(at + "\"name\" must be a string");
      spec.name = name->get<std::string>();
    }
    cols.push_back(std::move(spec));
  }
  return cols;
}

Result<MlModel> ParseMlModel(std::string_view text, std::string_view file) {
  const std::string f(file);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(f + ": line " + std::to_string(e.mark.line + 1) +
                           ": not valid YAML: " + e.msg);
  }
  if (!root.IsMap()) return InvalidArgument(f + ": must be a YAML mapping");
  MlModel ml;
  YAML::Node flavors = root["flavors"];
  if (!flavors || flavors.IsNull()) return InvalidArgument(f + ": flavors: missing");
  if (!flavors.IsMap()) {
    return InvalidArgument(f + ": " + LineOf(flavors) + "flavors: must be a mapping");
  }
  for (const auto& kv : flavors) {
    const std::string name = kv.first.Scalar();
    const YAML::Node& body = kv.second;
    auto& keys = ml.flavors[name];
    if (body.IsNull()) continue;
    if (!body.IsMap()) {
      return InvalidArgument(f + ": " + LineOf(body) + "flavors." + name + ": must be a mapping");
    }
    for (const auto& key : body) keys[key.first.Scalar()] = NodeText(key.second);
  }
  if (ml.flavors.empty()) return InvalidArgument(f + ": flavors: lists no flavor");
  if (YAML::Node sig = root["signature"]; sig && !sig.IsNull()) {
    if (!sig.IsMap()) {
      return InvalidArgument(f + ": " + LineOf(sig) + "signature: must be a mapping");
    }
    Signature s;
    LOTE_ASSIGN_OR_RETURN(s.inputs, ParseSignatureField(sig, "inputs", f));
    LOTE_ASSIGN_OR_RETURN(s.outputs, ParseSignatureField(sig, "outputs", f));
    ml.signature = std::move(s);
  }
  return ml;
}

Result<MlModel> LoadMlModel(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read " + Quote(path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError("cannot read " + Quote(path.string()));
  return ParseMlModel(text.str(), path.string());
}

fs::path ModelContentDir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || fs::exists(dir / "MLmodel", ec)) return dir;
  std::optional<fs::path> only;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    if (it->path().filename().string().starts_with('.')) continue;
    std::error_code tec;
    if (it->symlink_status(tec).type() != fs::file_type::directory || only) return dir;  // a file or link at the root, or two folders
    only = it->path();
  }
  return only && !ec ? *only : dir;
}

Result<ModelKind> DetectModel(const fs::path& given, std::string_view declared_type) {
  const fs::path dir = ModelContentDir(given);
  std::error_code ec;
  const bool has_mlmodel = fs::is_regular_file(dir / "MLmodel", ec);
  if (declared_type == "mlflow_model" || (declared_type.empty() && has_mlmodel)) {
    if (!has_mlmodel) {
      return InvalidArgument("model folder " + Quote(dir.string()) +
                             " has type mlflow_model but holds no MLmodel file");
    }
    return DetectMlflow(dir);
  }
  if (declared_type == "xgboost") {
    LOTE_ASSIGN_OR_RETURN(fs::path file, FindModelFile(dir, kXgboostExtensions, "XGBoost"));
    return ModelKind{.kind = "xgboost", .model_file = file, .signature = std::nullopt};
  }
  if (declared_type == "torchscript") {
    LOTE_ASSIGN_OR_RETURN(fs::path file, FindModelFile(dir, kTorchScriptExtensions, "TorchScript"));
    return ModelKind{.kind = "torchscript", .model_file = file, .signature = std::nullopt};
  }
  if (declared_type.empty() || declared_type == "custom_model" || declared_type == "triton_model") {
    return ModelKind{.kind = "custom", .model_file = {}, .signature = std::nullopt};
  }
  return InvalidArgument("model type " + Quote(declared_type) +
                         " is not one of mlflow_model, custom_model, triton_model, xgboost, torchscript");
}

}  // namespace lote::native
