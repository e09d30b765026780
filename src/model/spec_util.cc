#include "model/spec_util.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "model/names.h"
#include "model/yaml_doc.h"

namespace lote::model::internal {

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string out = "'";
  for (char c : s.substr(0, kMax)) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  if (s.size() > kMax) out += "...";
  return out + "'";
}

std::string Show(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string: return Quote(v.get_ref<const std::string&>());
    case Json::value_t::array: return "a list";
    case Json::value_t::object: return "a mapping";
    case Json::value_t::null: return "null";
    default: return v.dump();
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

Result<int64_t> ToInt(const Json& v, std::string_view label, std::string field) {
  auto bad = [&] {
    return InvalidArgument(std::string(label) + " must be an integer, got " + Show(v),
                           std::move(field));
  };
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return bad();
    return static_cast<int64_t>(u);
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) > 9e15) return bad();
    return static_cast<int64_t>(d);
  }
  if (v.is_string()) {
    std::string_view s = Trim(v.get_ref<const std::string&>());
    if (s.starts_with('+')) s.remove_prefix(1);
    int64_t out = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) return out;
  }
  return bad();
}

Result<std::string> ToVersion(const Json& v, std::string_view what, std::string field) {
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_number_integer() || v.is_number_unsigned()) {
    text = v.dump();
  } else if (v.is_number_float()) {
    // YAML read `version: 1.5` as a number; its shortest form is what the
    // user wrote in all but odd cases such as "1.10" (quote those).
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v.get<double>());
    if (ec != std::errc()) return InvalidArgument(std::string(what) + " version is invalid", field);
    text.assign(buf, p);
  } else {
    return InvalidArgument(std::string(what) + " version must be a string or a number, got " +
                               Show(v),
                           std::move(field));
  }
  LOTE_TRY(ValidateVersion(text, what, field));
  return text;
}

Result<ObjectReader> ObjectReader::Open(const Json& in, std::string_view what, std::string at,
                                        std::string rel, std::vector<std::string_view> allowed,
                                        std::vector<std::string_view> ignored) {
  if (!in.is_object()) {
    return InvalidArgument(std::string(what) + " must be a mapping, got " + Show(in), at);
  }
  for (const auto& [key, value] : in.items()) {
    auto has = [&](const std::vector<std::string_view>& list) {
      return std::find(list.begin(), list.end(), key) != list.end();
    };
    if (has(allowed) || has(ignored)) continue;
    std::string msg = "unknown key " + Quote(key) + " in " + std::string(what);
    std::string hint = DidYouMean(key, allowed);
    if (hint.empty()) {
      msg += "; expected one of: ";
      for (size_t i = 0; i < allowed.size(); ++i) {
        if (i) msg += ", ";
        msg += allowed[i];
      }
    } else {
      msg += hint;
    }
    return InvalidArgument(std::move(msg), JoinField(at, key));
  }
  return ObjectReader(&in, std::move(at), std::move(rel));
}

const Json* ObjectReader::Get(std::string_view key) const {
  auto it = obj_->find(key);
  if (it == obj_->end() || it->is_null()) return nullptr;
  return &*it;
}

std::string ObjectReader::Field(std::string_view key) const { return JoinField(at_, key); }
std::string ObjectReader::Label(std::string_view key) const { return JoinField(rel_, key); }

Result<std::optional<std::string>> ObjectReader::OptionalString(std::string_view key) const {
  const Json* v = Get(key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) {
    return InvalidArgument(Label(key) + " must be a string, got " + Show(*v), Field(key));
  }
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::string> ObjectReader::String(std::string_view key, std::string def) const {
  LOTE_ASSIGN_OR_RETURN(auto v, OptionalString(key));
  return v ? *v : def;
}

Result<std::string> ObjectReader::RequiredString(std::string_view key) const {
  LOTE_ASSIGN_OR_RETURN(auto v, OptionalString(key));
  if (!v) return InvalidArgument(Label(key) + " is required", Field(key));
  if (v->empty()) return InvalidArgument(Label(key) + " is empty", Field(key));
  return *v;
}

Result<int64_t> ObjectReader::Int(std::string_view key, int64_t def, int64_t min,
                                  int64_t max) const {
  const Json* v = Get(key);
  if (!v) return def;
  LOTE_ASSIGN_OR_RETURN(int64_t n, ToInt(*v, Label(key), Field(key)));
  if (n < min) {
    return InvalidArgument(Label(key) + " must be >= " + std::to_string(min) + ", got " +
                               std::to_string(n),
                           Field(key));
  }
  if (n > max) {
    return InvalidArgument(Label(key) + " must be <= " + std::to_string(max) + ", got " +
                               std::to_string(n),
                           Field(key));
  }
  return n;
}

Result<bool> ObjectReader::Bool(std::string_view key, bool def) const {
  const Json* v = Get(key);
  if (!v) return def;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_string()) {
    std::string s = Lower(Trim(v->get<std::string>()));
    if (s == "true") return true;
    if (s == "false") return false;
  }
  return InvalidArgument(Label(key) + " must be true or false, got " + Show(*v), Field(key));
}

Result<std::optional<std::string>> ObjectReader::Version(std::string_view key,
                                                         std::string_view what) const {
  const Json* v = Get(key);
  if (!v) return std::optional<std::string>();
  LOTE_ASSIGN_OR_RETURN(std::string s, ToVersion(*v, what, Field(key)));
  return std::optional<std::string>(std::move(s));
}

Status CheckRelativePath(std::string_view path, std::string_view label, std::string field) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(std::string(label) + " " + Quote(path) + " " + std::string(why),
                           std::move(field));
  };
  if (path.empty()) return bad("is empty");
  if (path.front() == '/' || path.front() == '\\') return bad("must be a relative path");
  if (path.find('\0') != std::string_view::npos) return bad("contains a NUL character");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(start, end - start) == "..") return bad("must not contain '..'");
    start = end + 1;
  }
  return {};
}

Result<Json> Tags(const ObjectReader& r) {
  constexpr size_t kMaxTags = 64, kMaxName = 256, kMaxValue = 1024;
  Json out = Json::object();
  const Json* v = r.Get("tags");
  if (!v) return out;
  if (!v->is_object()) {
    return InvalidArgument("tags must be a mapping of name: value, got " + Show(*v), r.Field("tags"));
  }
  if (v->size() > kMaxTags) {
    return InvalidArgument("tags has " + std::to_string(v->size()) + " entries; at most " +
                               std::to_string(kMaxTags) + " are kept",
                           r.Field("tags"));
  }
  for (const auto& [name, value] : v->items()) {
    std::string field = JoinField(r.Field("tags"), name);
    if (name.empty() || name.size() > kMaxName) {
      return InvalidArgument("tag name " + Quote(name) + " must have 1 to 256 characters", field);
    }
    std::string text;
    if (value.is_string()) text = value.get<std::string>();
    else if (value.is_null()) text = "";
    else if (value.is_primitive()) text = value.dump();
    else return InvalidArgument("tag " + Quote(name) + " must be a string or a number, got " + Show(value), field);
    if (text.size() > kMaxValue) {
      return InvalidArgument("tag " + Quote(name) + " is longer than 1024 characters", field);
    }
    out[name] = text;
  }
  return out;
}

}  // namespace lote::model::internal
