#include "jobs/job_outputs.h"

#include <algorithm>
#include <fstream>

#include "jobs/output_assembly.h"
#include "storage/beneath.h"

namespace lote::jobs {

namespace fs = std::filesystem;
using nlohmann::json;

OutputListing ListOutputFiles(const JobSpec& spec, bool assembled) {
  OutputListing out;
  const fs::path dir = spec.output.local_dir;
  if (dir.empty()) return out;
  const std::string temp = AssemblyTempName(spec.output.local_path, spec.name);
  std::error_code ec;
  // No link is followed: a script's link to a folder elsewhere lists nothing.
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    std::error_code sec;
    if (it->symlink_status(sec).type() != fs::file_type::regular) continue;
    std::string name = fs::relative(it->path(), dir, sec).generic_string();
    if (sec || name.empty()) continue;
    if (name == temp) continue;
    if (name == spec.output.file_name && !assembled) continue;
    if (out.files.size() >= kMaxListedOutputFiles) {
      out.truncated = true;
      break;
    }
    out.files.push_back({name, static_cast<uint64_t>(it->file_size(sec))});
  }
  std::sort(out.files.begin(), out.files.end(),
            [](const OutputFile& a, const OutputFile& b) { return a.name < b.name; });
  return out;
}

std::string OutputFileApiPath(const std::string& name) {
  if (name.starts_with("logs/") || name.starts_with("outputs/")) return "outputs/" + name;
  return name;
}

Result<fs::path> ResolveOutputFile(const JobSpec& spec, const std::string& rel) {
  if (spec.output.local_dir.empty()) return NotFound("job '" + spec.name + "' has no output folder");
  LOTE_ASSIGN_OR_RETURN(storage::Beneath dir,
                        storage::Beneath::Open(spec.output.local_dir, "the output folder of job '" + spec.name + "'"));
  auto info = dir.Stat(rel);
  if (!info && info.error().code() == ErrorCode::kNotFound) {
    return NotFound("job '" + spec.name + "' has no file '" + rel + "'");
  }
  if (!info) return info.error();
  if (info->type != storage::EntryType::kFile) {
    return NotFound("job '" + spec.name + "' has no file '" + rel + "' (it is not a regular file)");
  }
  return info->resolved;
}

json OutputFilesJson(const OutputListing& listing) {
  json files = json::array();
  for (const OutputFile& f : listing.files) {
    files.push_back({{"name", f.name}, {"size", f.size}, {"path", OutputFileApiPath(f.name)}});
  }
  return files;
}

json InterpretersRan(const fs::path& logs_dir) {
  json ran = json::array();
  std::error_code ec;
  const fs::path nodes = logs_dir / "sys" / "node";
  for (auto it = fs::directory_iterator(nodes, ec); !ec && it != fs::end(it); it.increment(ec)) {
    const fs::path file = it->path() / "interpreter.json";
    std::error_code fec;
    if (fs::symlink_status(file, fec).type() != fs::file_type::regular) continue;
    if (fs::file_size(file, fec) > 4096) continue;  // not one an agent wrote
    std::ifstream in(file);
    json rec = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!rec.is_object()) continue;  // half written, or not ours: shown when complete
    json shown = json::object();
    if (rec.contains("node") && rec["node"].is_number_integer()) shown["node"] = rec["node"];
    for (const char* key : {"version", "path"}) {
      if (rec.contains(key) && rec[key].is_string()) shown[key] = rec[key];
    }
    if (!shown.contains("version") && !shown.contains("path")) continue;  // says nothing
    ran.push_back(std::move(shown));
  }
  std::sort(ran.begin(), ran.end(), [](const json& a, const json& b) {
    return a.value("node", int64_t{0}) < b.value("node", int64_t{0});
  });
  return ran;
}

}  // namespace lote::jobs
