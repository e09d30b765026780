#include "agent/range_items.h"

#include <fstream>

namespace lote::agent {

namespace fs = std::filesystem;

Result<nlohmann::json> MaterializeRanges(const nlohmann::json& items, const fs::path& dir,
                                         std::vector<fs::path>* created) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) {
    if (!item.contains("offset")) {
      out.push_back(item);
      continue;
    }
    fs::path src = item["path"].get<std::string>();
    uint64_t offset = item["offset"], length = item["length"];
    std::error_code ec;
    fs::create_directories(dir, ec);
    // "trips.csv" bytes 1000+500 -> "trips@1000.csv": the script sees the original name and type.
    fs::path chunk = dir / (src.stem().string() + "@" + std::to_string(offset) + src.extension().string());
    std::ifstream in(src, std::ios::binary);
    std::ofstream dst(chunk, std::ios::binary | std::ios::trunc);
    if (!in || !dst) return IoError("cannot prepare bytes " + std::to_string(offset) + "+" +
                                    std::to_string(length) + " of '" + src.string() + "'");
    created->push_back(chunk);
    if (item.contains("header")) dst << item["header"].get<std::string>() << "\n";
    in.seekg(static_cast<std::streamoff>(offset));
    std::vector<char> buf(1 << 16);
    uint64_t left = length;
    while (left > 0 && in) {
      in.read(buf.data(), static_cast<std::streamsize>(std::min<uint64_t>(left, buf.size())));
      auto got = in.gcount();
      if (got <= 0) break;
      dst.write(buf.data(), got);
      left -= static_cast<uint64_t>(got);
    }
    if (left > 0 || !dst) return IoError("'" + src.string() + "' is shorter than its planned byte range");
    out.push_back({{"path", chunk.string()}});
  }
  return out;
}

}  // namespace lote::agent
