#include "model/yaml_doc.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace lote::model {
namespace {

// Aliases let a short document expand into a huge tree ("billion laughs");
// these bounds keep conversion cheap whatever the input.
constexpr int kMaxNodes = 200'000;
constexpr int kMaxDepth = 100;
constexpr std::uintmax_t kMaxFileBytes = 16u << 20;

bool IsNullPlain(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

bool IsAllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Converts a plain (unquoted) scalar to its JSON value.
nlohmann::json PlainScalar(const std::string& s) {
  if (IsNullPlain(s)) return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;

  std::string_view body = s;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body.remove_prefix(1);
  if (IsAllDigits(body)) {
    std::string_view text = s[0] == '+' ? std::string_view(s).substr(1) : std::string_view(s);
    int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && p == text.data() + text.size()) return v;
    return s;  // out of int64 range: keep the text rather than lose digits
  }
  // A float: only digits, one '.', an exponent; at least one digit before the
  // exponent. from_chars would also take "inf"/"nan", which JSON cannot hold.
  bool digit = false;
  for (char c : body) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-') {
      return s;
    }
  }
  if (!digit || body.empty() || body[0] == 'e' || body[0] == 'E') return s;
  std::string_view text = s[0] == '+' ? std::string_view(s).substr(1) : std::string_view(s);
  double d = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec == std::errc() && p == text.data() + text.size()) return d;
  return s;
}

// The offset of the first byte that is not part of valid UTF-8, or npos.
// Checked up front: nlohmann::json cannot print such strings later.
size_t InvalidUtf8At(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return i;
    uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return std::string_view::npos;
}

// yaml-cpp 0.7 decodes the escapes "\\_" and "\\N" of double-quoted
// scalars to the raw Latin-1 bytes 0xA0 and 0x85, which are not UTF-8. The
// input was checked to be UTF-8, so any invalid byte here is one of those:
// re-encode it.
std::string FixEscapes(std::string s) {
  if (InvalidUtf8At(s) == std::string_view::npos) return s;
  std::string out;
  std::string_view rest = s;
  while (!rest.empty()) {
    size_t bad = InvalidUtf8At(rest);
    if (bad == std::string_view::npos) bad = rest.size();
    out.append(rest.substr(0, bad));
    if (bad == rest.size()) break;
    auto c = static_cast<unsigned char>(rest[bad]);
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
    rest.remove_prefix(bad + 1);
  }
  return out;
}

std::string Where(const std::string& file, const YAML::Mark& mark, bool with_column) {
  std::string out = file.empty() ? "<input>" : file;
  if (mark.is_null()) return out;
  out += ":" + std::to_string(mark.line + 1);
  if (with_column) out += ":" + std::to_string(mark.column + 1);
  return out;
}

// Records where each document of a stream starts and whether it holds
// anything but null.
class DocumentCounter : public YAML::EventHandler {
 public:
  struct Doc {
    YAML::Mark start;
    bool content = false;
  };
  std::vector<Doc> docs;

  void OnDocumentStart(const YAML::Mark& mark) override { docs.push_back({mark, false}); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { Content(); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Content();
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Content();
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Content();
  }
  void OnMapEnd() override {}

 private:
  void Content() {
    if (!docs.empty()) docs.back().content = true;
  }
};

// Refuses a stream whose second or later document holds anything (a
// trailing "---" is fine). yaml-cpp 0.7's
// LoadAll never returns on some invalid input (a stray ',' at the top level
// yields the same empty document forever, jbeder/yaml-cpp#1040), so the
// documents are walked here, and a document that starts where the previous
// one started is reported as the syntax error it is. May throw YAML::Exception.
Status CheckSingleDocument(std::string_view text, const std::string& file) {
  constexpr size_t kMaxDocuments = 10'000;
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  DocumentCounter counter;
  while (counter.docs.size() < kMaxDocuments && parser.HandleNextDocument(counter)) {
    const auto& docs = counter.docs;
    if (docs.size() >= 2 && docs[docs.size() - 1].start.pos == docs[docs.size() - 2].start.pos) {
      const YAML::Mark& m = docs.back().start;
      std::string what = m.pos >= 0 && static_cast<size_t>(m.pos) < text.size()
                             ? "'" + std::string(1, text[m.pos]) + "'"
                             : "input";
      return InvalidArgument(Where(file, m, true) + ": unexpected " + what);
    }
    if (docs.size() >= 2 && docs.back().content) {
      return InvalidArgument(Where(file, docs.back().start, false) +
                             ": the file holds more than one YAML document; expected one");
    }
  }
  return {};
}

class Converter {
 public:
  explicit Converter(YamlDocument& doc) : doc_(doc) {}

  Result<nlohmann::json> Convert(const YAML::Node& node, const std::string& path, int depth) {
    if (++nodes_ > kMaxNodes || depth > kMaxDepth) {
      return InvalidArgument(Where(doc_.file, node.Mark(), false) +
                                 ": document too large or too deeply nested (at most " +
                                 std::to_string(kMaxNodes) + " nodes, " +
                                 std::to_string(kMaxDepth) + " levels)",
                             path);
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return nlohmann::json(nullptr);
      case YAML::NodeType::Scalar: {
        const std::string& tag = node.Tag();
        if (tag == "!" || tag == "tag:yaml.org,2002:str") {
          return nlohmann::json(FixEscapes(node.Scalar()));
        }
        return PlainScalar(FixEscapes(node.Scalar()));
      }
      case YAML::NodeType::Sequence: {
        nlohmann::json out = nlohmann::json::array();
        int i = 0;
        for (const YAML::Node& child : node) {
          std::string child_path = JoinField(path, "[" + std::to_string(i++) + "]");
          Record(child_path, child.Mark());
          LOTE_ASSIGN_OR_RETURN(nlohmann::json v, Convert(child, child_path, depth + 1));
          out.push_back(std::move(v));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        nlohmann::json out = nlohmann::json::object();
        std::map<std::string, int> seen;  // key -> line
        std::vector<YAML::Node> merges;  // YAML "<<: *anchor", applied after explicit keys
        for (const auto& kv : node) {
          const YAML::Node& key = kv.first;
          if (key.IsScalar() && key.Tag() == "?" && key.Scalar() == "<<") {
            merges.push_back(kv.second);
            continue;
          }
          if (!key.IsScalar() && !key.IsNull()) {
            return InvalidArgument(
                Where(doc_.file, key.Mark(), true) + ": mapping keys must be plain text", path);
          }
          std::string name = key.IsNull() ? std::string() : FixEscapes(key.Scalar());
          int line = key.Mark().is_null() ? 0 : key.Mark().line + 1;
          std::string child_path = JoinField(path, name);
          if (auto it = seen.find(name); it != seen.end()) {
            return InvalidArgument(Where(doc_.file, key.Mark(), false) + ": duplicate key '" +
                                       name + "' (first at line " +
                                       std::to_string(it->second) + ")",
                                   child_path);
          }
          seen.emplace(name, line);
          Record(child_path, key.Mark());
          LOTE_ASSIGN_OR_RETURN(nlohmann::json v, Convert(kv.second, child_path, depth + 1));
          out[name] = std::move(v);
        }
        // Explicit keys win over merged ones; earlier merges win over later ones.
        // Converted last so that explicit keys keep their own lines.
        for (const YAML::Node& merge : merges) {
          LOTE_ASSIGN_OR_RETURN(nlohmann::json m, Convert(merge, path, depth + 1));
          if (m.is_object()) m = nlohmann::json::array({std::move(m)});
          for (auto& one : m) {
            if (!one.is_object()) {
              return InvalidArgument(Where(doc_.file, merge.Mark(), false) +
                                         ": '<<' merges a mapping or a list of mappings",
                                     path);
            }
            for (auto& [k, v] : one.items()) {
              if (!out.contains(k)) out[k] = v;
            }
          }
        }
        return out;
      }
    }
    return nlohmann::json(nullptr);
  }

  void Record(const std::string& path, const YAML::Mark& mark) {
    if (!mark.is_null()) doc_.lines.emplace(path, mark.line + 1);
  }

 private:
  YamlDocument& doc_;
  int nodes_ = 0;
};

}  // namespace

std::string_view ParentField(std::string_view field) {
  size_t pos = field.find_last_of(".[");
  if (pos == std::string_view::npos) return {};
  return field.substr(0, pos);
}

std::string JoinField(std::string_view parent, std::string_view child) {
  std::string out(parent);
  if (!out.empty() && !child.starts_with('[')) out += '.';
  out += child;
  return out;
}

int YamlDocument::LineOf(std::string_view field) const {
  while (true) {
    if (auto it = lines.find(std::string(field)); it != lines.end()) return it->second;
    if (field.empty()) return 0;
    field = ParentField(field);
  }
}

std::string YamlDocument::Describe(const Error& e) const {
  std::string out = file;
  int line = LineOf(e.field());
  if (line > 0 && !out.empty()) out += ":" + std::to_string(line);
  if (!out.empty()) out += ": ";
  if (!e.field().empty()) out += e.field() + ": ";
  out += e.message();
  return out;
}

Result<YamlDocument> ParseYaml(std::string_view text, std::string file) {
  YamlDocument doc;
  doc.file = std::move(file);
  if (size_t bad = InvalidUtf8At(text); bad != std::string_view::npos) {
    auto line = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n') + 1;
    return InvalidArgument((doc.file.empty() ? std::string("<input>") : doc.file) + ":" +
                           std::to_string(line) + ": the file is not valid UTF-8 text");
  }
  try {
    LOTE_TRY(CheckSingleDocument(text, doc.file));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(Where(doc.file, e.mark, true) + ": " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgument(Where(doc.file, YAML::Mark::null_mark(), false) + ": " + e.what());
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(Where(doc.file, e.mark, true) + ": " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgument(Where(doc.file, YAML::Mark::null_mark(), false) + ": " + e.what());
  }
  try {
    doc.lines.emplace("", root.Mark().is_null() ? 1 : root.Mark().line + 1);
    Converter conv(doc);
    LOTE_ASSIGN_OR_RETURN(doc.value, conv.Convert(root, "", 0));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(Where(doc.file, e.mark, true) + ": " + e.msg);
  }
  return doc;
}

Result<YamlDocument> LoadYamlFile(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  auto st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) {
    if (ec && ec != std::errc::no_such_file_or_directory) {
      return IoError("cannot read '" + name + "': " + ec.message());
    }
    return NotFound("file '" + name + "' does not exist");
  }
  if (std::filesystem::is_directory(st)) {
    return IoError("cannot read '" + name + "': it is a directory, expected a YAML file");
  }
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) {
    return InvalidArgument("'" + name + "' is " + std::to_string(size) +
                           " bytes; YAML files over " + std::to_string(kMaxFileBytes) +
                           " bytes are refused");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read '" + name + "': " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return IoError("cannot read '" + name + "': " + std::strerror(errno));
  return ParseYaml(buf.str(), name);
}

}  // namespace lote::model
