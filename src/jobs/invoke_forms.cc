#include "jobs/invoke_forms.h"

#include <algorithm>
#include <cctype>

namespace lote::jobs::invoke {

using nlohmann::json;

namespace {

constexpr std::string_view kAzureml = "azureml:";
constexpr std::string_view kPaths = "/paths/";
constexpr std::string_view kDatastores = "/datastores/";

// Where the path segment starting at `start` ends: the next '/', or the end of `s`.
size_t SegmentEnd(std::string_view s, size_t start) {
  size_t slash = s.find('/', start);
  return slash == std::string_view::npos ? s.size() : slash;
}

std::string DatastoreForms() {
  return "azureml://datastores/<name>/paths/<path> (or its long form azureml://subscriptions/…/"
         "datastores/<name>/paths/<path>, or a datastore's ARM id followed by /paths/<path>)";
}

}  // namespace

std::string KeyForm(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c != '_') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

Member FindMember(const json& obj, std::string_view key) {
  if (!obj.is_object()) return {};
  const std::string want = KeyForm(key);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (KeyForm(it.key()) == want) return Member{it.key(), &it.value()};
  }
  return {};
}

bool LooksLikeDatastoreUri(std::string_view s) {
  return s.starts_with("azureml://") || s.starts_with("/subscriptions/") || s.starts_with("azureml:/subscriptions/");
}

Result<json> DatastoreFromUri(const std::string& uri, const std::string& field) {
  std::string_view s = uri;
  if (s.starts_with("azureml://")) {
    s.remove_prefix(std::string_view("azureml:/").size());  // keep one '/': "/datastores/…"
  } else if (s.starts_with(kAzureml)) {
    s.remove_prefix(kAzureml.size());
  }
  // "/datastores/<ds>/paths/<p>", possibly after "/subscriptions/…/workspaces/<ws>".
  size_t ds = s.starts_with(kDatastores) ? 0 : s.find(kDatastores);
  if (!s.starts_with("/") || ds == std::string_view::npos) {
    return InvalidArgument("'" + uri + "' is not a datastore path: expected " + DatastoreForms(), field);
  }
  size_t name_start = ds + kDatastores.size();
  size_t name_end = SegmentEnd(s, name_start);
  std::string_view name = s.substr(name_start, name_end - name_start);
  std::string_view rest = s.substr(name_end);
  if (name.empty() || !rest.starts_with(kPaths)) {
    return InvalidArgument("'" + uri + "' names no datastore path: expected " + DatastoreForms(), field);
  }
  return json{{"datastore", std::string(name)}, {"path", std::string(rest.substr(kPaths.size()))}};
}

Result<json> InputFromUri(const std::string& uri, const std::string& field) {
  if (uri.empty()) return InvalidArgument(field + " is empty: the input needs a path or URI", field);
  if (uri.starts_with("http://") || uri.starts_with("https://")) return json{{"uri", uri}};
  std::string_view s = uri;
  if (s.starts_with(kAzureml)) s.remove_prefix(kAzureml.size());
  if (s.starts_with("/")) {
    // An ARM id (or the azureml:// long forms): a datastore path, or a data asset version.
    if (s.find(kDatastores) != std::string_view::npos) return DatastoreFromUri(uri, field);
    size_t data = s.rfind("/data/");
    size_t versions = s.rfind("/versions/");
    if (s.starts_with("/subscriptions/") && data != std::string_view::npos && versions != std::string_view::npos &&
        versions > data + 6) {
      std::string name(s.substr(data + 6, versions - data - 6));
      std::string version(s.substr(versions + 10));
      if (name.empty() || version.empty() || name.find('/') != std::string::npos ||
          version.find('/') != std::string::npos) {
        return InvalidArgument("'" + uri + "' must end in /data/<name>/versions/<version>", field);
      }
      return json{{"data", "azureml:" + name + ":" + version}};
    }
    return InvalidArgument("'" + uri + "' is neither a datastore path (" + DatastoreForms() +
                               ") nor a data asset (/subscriptions/…/data/<name>/versions/<version>)",
                           field);
  }
  if (uri.starts_with(kAzureml)) return json{{"data", uri}};  // azureml:<name>:<v> | azureml:<name>@latest
  return InvalidArgument("input '" + uri + "' must be an http(s) URL, azureml:<data>:<version>, "
                         "azureml:<data>@latest or " + DatastoreForms(),
                         field);
}

Result<DataType> ParseDataType(const json& value, const std::string& field) {
  if (!value.is_string()) {
    return InvalidArgument(field + " must be a string (uri_folder or uri_file), not " +
                               std::string(value.type_name()),
                           field);
  }
  const std::string& given = value.get_ref<const std::string&>();
  const std::string form = KeyForm(given);
  if (form == "urifolder") return DataType::kFolder;
  if (form == "urifile") return DataType::kFile;
  return InvalidArgument(field + " '" + given + "' is not supported: lote scores uri_folder (UriFolder) "
                                                "and uri_file (UriFile) data",
                         field);
}

Result<json> TypedInput(json input, DataType type, const std::string& field) {
  if (type == DataType::kUnspecified || !input.contains("uri")) return input;
  const std::string url = input["uri"].get<std::string>();
  // The path ends before a query (a SAS token) or fragment.
  const size_t path_end = std::min(url.find('?'), url.find('#'));
  const std::string path = url.substr(0, path_end);
  if (type == DataType::kFolder && !path.ends_with("/")) {
    // A folder URL as Azure's users write it: listed as a folder all the same.
    input["uri"] = path + "/" + (path_end == std::string::npos ? "" : url.substr(path_end));
  } else if (type == DataType::kFile && path.ends_with("/")) {
    return InvalidArgument("'" + url + "' ends with '/' but the input's type is uri_file; use uri_folder for a "
                           "folder, or name the file",
                           field);
  }
  return input;
}

}  // namespace lote::jobs::invoke
