#include "agent/output_shipper.h"

#include <algorithm>

namespace lote::agent {

namespace fs = std::filesystem;

OutputShipResult ShipOutputs(ControlPlaneClient& client, const fs::path& root, SysLog& log) {
  OutputShipResult out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it); it.increment(ec)) {
    std::error_code sec;
    const fs::file_type type = it->symlink_status(sec).type();
    if (type == fs::file_type::directory) continue;
    std::string rel = fs::relative(it->path(), root, sec).generic_string();
    if (type != fs::file_type::regular) {
      out.skipped.push_back(rel);
      continue;
    }
    files.push_back(std::move(rel));
  }
  if (ec) out.kept.push_back("(the rest of the folder: cannot list it: " + ec.message() + ")");
  std::sort(files.begin(), files.end());
  for (const std::string& rel : files) {
    Status st = client.PutNodeOutput(rel, root / rel);
    if (st) {
      ++out.shipped;
      continue;
    }
    out.kept.push_back(rel + " (" + st.error().message() + ")");
  }
  if (out.shipped > 0) {
    log.Info("shipped " + std::to_string(out.shipped) + " file(s) the workers wrote under AZUREML_BI_OUTPUT_PATH "
             "into the job's output folder");
  }
  for (const std::string& rel : out.skipped) {
    log.Warning("output '" + rel + "' is not a regular file (a link?): not shipped");
  }
  for (const std::string& why : out.kept) {
    log.Warning("output file " + why + " stays on this node in " + root.string());
  }
  return out;
}

}  // namespace lote::agent
