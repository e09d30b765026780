// NormalizeDatastore (docs/resources.md, "datastore").
#include "model/names.h"
#include "model/spec_util.h"
#include "model/specs.h"

namespace lote::model {
namespace {

using internal::Json;
using internal::Lower;
using internal::ObjectReader;
using internal::Quote;
using internal::Trim;

}  // namespace

Result<nlohmann::json> NormalizeDatastore(const nlohmann::json& in) {
  // The type first: an Azure blob datastore file has keys (account_name, ...)
  // that would otherwise be reported as unknown.
  if (in.is_object()) {
    auto it = in.find("type");
    if (it != in.end() && it->is_string()) {
      std::string t = Lower(Trim(it->get<std::string>()));
      if (t != "local") {
        return InvalidArgument("datastore type " + Quote(it->get<std::string>()) +
                                   " is not supported: lote datastores are local folders "
                                   "(type: local)",
                               "type");
      }
    }
  }
  LOTE_ASSIGN_OR_RETURN(auto r, ObjectReader::Open(in, "datastore", "", "",
                                                   {"$schema", "name", "type", "path",
                                                    "is_default", "mounted_on_nodes", "description"},
                                                   {"created_at", "updated_at", "id"}));
  Json out = Json::object();
  LOTE_ASSIGN_OR_RETURN(std::string name, r.RequiredString("name"));
  LOTE_TRY(ValidateResourceName(name, "datastore", r.Field("name")));
  out["name"] = name;
  LOTE_ASSIGN_OR_RETURN(std::string type, r.String("type", "local"));
  if (Lower(Trim(type)) != "local") {
    return InvalidArgument("datastore type must be local, got " + Quote(type), r.Field("type"));
  }
  out["type"] = "local";
  LOTE_ASSIGN_OR_RETURN(auto path, r.OptionalString("path"));
  if (path) {
    if (Trim(*path).empty()) return InvalidArgument("path is empty", r.Field("path"));
    if (path->find('\0') != std::string::npos) {
      return InvalidArgument("path contains a NUL character", r.Field("path"));
    }
    out["path"] = *path;
  }
  LOTE_ASSIGN_OR_RETURN(out["is_default"], r.Bool("is_default", false));
  LOTE_ASSIGN_OR_RETURN(out["mounted_on_nodes"], r.Bool("mounted_on_nodes", false));
  LOTE_ASSIGN_OR_RETURN(out["description"], r.String("description"));
  return out;
}

}  // namespace lote::model
