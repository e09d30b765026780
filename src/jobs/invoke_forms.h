// The pieces of ParseInvokeRequest (jobs/invoke_request.h) shared by lote's
// own body and Azure's: where an input or output URI points, and the input
// types. Internal to jobs/; the contract for clients is docs/rest.md.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::jobs::invoke {

// A key as Azure's clients spell it in any of their styles: "InputData",
// "inputData" and "input_data" are the same key (lowercase, '_' dropped).
std::string KeyForm(std::string_view key);

// The member of `obj` whose key has KeyForm(key); an empty Member if none.
struct Member {
  std::string key;             // as the client spelled it
  const nlohmann::json* value = nullptr;
  explicit operator bool() const { return value != nullptr; }
};
Member FindMember(const nlohmann::json& obj, std::string_view key);

// Where an input URI points, as lote's input object: {"uri": https URL},
// {"data": "azureml:<name>:<version>" | "azureml:<name>@latest"} or
// {"datastore", "path"}. Takes every form Azure's clients send:
//   https://… and http://…
//   azureml:<name>:<version>, azureml:<name>@latest
//   azureml://datastores/<ds>/paths/<p>
//   azureml://subscriptions/…/workspaces/<ws>/datastores/<ds>/paths/<p>
//   /subscriptions/…/workspaces/<ws>/datastores/<ds>/paths/<p>  (ARM id of a datastore + /paths/)
//   /subscriptions/…/workspaces/<ws>/data/<name>/versions/<v>    (ARM id of a data asset; azureml: prefix too)
// InvalidArgument naming `field` otherwise.
Result<nlohmann::json> InputFromUri(const std::string& uri, const std::string& field);

// A datastore location {"datastore", "path"} from any of the datastore
// forms above; InvalidArgument naming `field` for anything else.
Result<nlohmann::json> DatastoreFromUri(const std::string& uri, const std::string& field);

// True for the forms DatastoreFromUri takes (azureml://…, /subscriptions/…).
bool LooksLikeDatastoreUri(std::string_view s);

enum class DataType { kUnspecified, kFolder, kFile };

// "UriFolder", "uri_folder", "urifolder" (any case) and the File ones.
// Every other type (MLTable, Literal, CustomModel, …) is refused by name.
Result<DataType> ParseDataType(const nlohmann::json& value, const std::string& field);

// An input with its declared type: an http(s) folder URL gets its trailing
// '/' (lote lists a URL as a folder by it), a uri_file URL that ends in '/'
// is refused. Other inputs are checked against their type when the job is
// built (the datastore says what the path is).
Result<nlohmann::json> TypedInput(nlohmann::json input, DataType type, const std::string& field);

// Azure's `properties` object (2020-09 `dataset`, 2022+ `InputData`) as
// lote's request ({"input", "output", "set"}).
Result<nlohmann::json> ParseAzureProperties(const nlohmann::json& props, const std::string& where);

}  // namespace lote::jobs::invoke
