// MLflow model folders: the `MLmodel` file, and which runtime scores a model.
//
// An MLmodel file is YAML. lote reads the flavors (each a mapping of keys),
// and the signature, whose `inputs` and `outputs` MLflow stores as JSON
// *strings* inside the YAML:
//
//   signature:
//     inputs: '[{"name": "fareAmount", "type": "double"}, ...]'
//     outputs: '[{"type": "double"}]'
//
// Errors are InvalidArgument and name the file and the key:
//   "<dir>/MLmodel: signature.inputs: not valid JSON: …"
// Functions here are pure (they read files only) and thread-compatible.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lote::native {

// One column of a signature. MLflow's column types: double, float, long,
// integer, boolean, string, binary, datetime. A tensor-based signature
// ({"type": "tensor", "tensor-spec": …}) has no names: name is empty and type
// is "tensor".
struct ColumnSpec {
  std::string name;
  std::string type;
};

struct Signature {
  std::vector<ColumnSpec> inputs;
  std::vector<ColumnSpec> outputs;

  // True when every input has a name (a column-based signature), so the
  // inputs can select CSV columns by name.
  bool HasNamedInputs() const;
};

struct MlModel {
  // Flavor name -> its scalar keys, as strings (nested values are kept as
  // their YAML text). Ordered by name.
  std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> flavors;
  std::optional<Signature> signature;

  bool HasFlavor(std::string_view name) const { return flavors.contains(name); }
  // The flavor's key, or nullopt when the flavor or the key is absent.
  std::optional<std::string> FlavorKey(std::string_view flavor, std::string_view key) const;

  // xgboost flavor: the model file name relative to the folder ("model.xgb")
  // and its format ("xgb", "json", "ubj"), when given.
  std::optional<std::string> XgboostData() const { return FlavorKey("xgboost", "data"); }
  std::optional<std::string> XgboostModelFormat() const {
    return FlavorKey("xgboost", "model_format");
  }
  // python_function.loader_module ("mlflow.sklearn", "mlflow.xgboost", …).
  std::optional<std::string> LoaderModule() const {
    return FlavorKey("python_function", "loader_module");
  }
};

// Parses MLmodel text; `file` names it in errors.
Result<MlModel> ParseMlModel(std::string_view text, std::string_view file);
// Reads and parses a file (IoError when it cannot be read).
Result<MlModel> LoadMlModel(const std::filesystem::path& path);

// Parses a signature's inputs/outputs JSON string (a JSON array of objects
// with "type" and optionally "name").
Result<std::vector<ColumnSpec>> ParseSignatureColumns(std::string_view json_text);

// How lote scores a model folder.
struct ModelKind {
  // "mlflow_xgboost" | "mlflow_sklearn" | "xgboost" | "torchscript" | "custom"
  std::string kind;
  // The file the runtime loads; empty for "custom".
  std::filesystem::path model_file;
  // From the MLmodel, when it has one.
  std::optional<Signature> signature;
};

// Where a registered model's own files are. Azure lays a model registered
// from a folder `model/` out as <AZUREML_MODEL_DIR>/model/…, and lote stores
// it so (registry_models.cc); models stored before kept their files at the
// root. Returns the one sub-folder when `dir` has no MLmodel, no visible
// regular file and exactly one visible folder; else `dir` itself (also when
// `dir` is a file or cannot be read).
std::filesystem::path ModelContentDir(const std::filesystem::path& dir);

// Classifies a model folder (or the one sub-folder holding it, as
// ModelContentDir finds; model_file is then inside it). declared_type is the model asset's type
// (mlflow_model | custom_model | xgboost | torchscript) or empty to detect:
// a folder with an MLmodel file is an MLflow model, anything else is custom.
// `dir` may also be the model file itself for xgboost and torchscript.
//
// Errors (InvalidArgument, naming the folder or file):
//   - an MLmodel none of whose flavors lote serves:
//     "MLmodel flavor(s) 'onnx' are not served by lote; served: xgboost,
//      sklearn (python_function with loader_module mlflow.sklearn); a model
//      saved with torch.jit.save is served as model type torchscript"
//   - a flavor's model file that does not exist;
//   - mlflow_model without an MLmodel file;
//   - xgboost/torchscript folders that hold no (or several) candidate files.
Result<ModelKind> DetectModel(const std::filesystem::path& dir, std::string_view declared_type);

}  // namespace lote::native
