// Evaluates a parsed `--query` expression (query_parser.h) against a document.
#include "cli/query.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/query_parser.h"

namespace lote::cli {
namespace {

using json = nlohmann::ordered_json;
using query::CompareOp;
using query::Node;
using query::NodeKind;

// JMESPath falsiness: null, false, "", [] and {}; every number is true.
bool IsFalse(const json& v) {
  if (v.is_null()) return true;
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_string()) return v.get_ref<const std::string&>().empty();
  if (v.is_array() || v.is_object()) return v.empty();
  return false;
}

json Compare(CompareOp op, const json& left, const json& right) {
  if (op == CompareOp::kEq) return left == right;
  if (op == CompareOp::kNe) return left != right;
  const bool comparable =
      (left.is_number() && right.is_number()) || (left.is_string() && right.is_string());
  if (!comparable) return nullptr;
  switch (op) {
    case CompareOp::kLt: return left < right;
    case CompareOp::kLte: return left <= right;
    case CompareOp::kGt: return left > right;
    default: return left >= right;
  }
}

// Python slice semantics, as the JMESPath spec defines them.
json SliceArray(const json& array, const Node& node) {
  const auto size = static_cast<int64_t>(array.size());
  // Clamping the step keeps `i += step` from overflowing without changing the result.
  const int64_t step = std::clamp(node.slice[2].value_or(1), -(size + 1), size + 1);
  auto bound = [&](std::optional<int64_t> value, int64_t fallback) {
    if (!value) return fallback;
    int64_t x = *value;
    if (x < 0) {
      x += size;
      if (x < 0) x = step < 0 ? -1 : 0;
    } else if (x >= size) {
      x = step < 0 ? size - 1 : size;
    }
    return x;
  };
  const int64_t start = bound(node.slice[0], step < 0 ? size - 1 : 0);
  const int64_t stop = bound(node.slice[1], step < 0 ? -1 : size);
  json out = json::array();
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    out.push_back(array[static_cast<size_t>(i)]);
  }
  return out;
}

json Evaluate(const Node& node, const json& value) {
  const std::vector<Node>& kids = node.children;
  switch (node.kind) {
    case NodeKind::kIdentity: return value;
    case NodeKind::kLiteral: return node.value;
    case NodeKind::kField: {
      if (!value.is_object()) return nullptr;
      auto it = value.find(node.name);
      return it == value.end() ? json() : *it;
    }
    case NodeKind::kIndex: {
      if (!value.is_array()) return nullptr;
      const auto size = static_cast<int64_t>(value.size());
      const int64_t i = node.index < 0 ? node.index + size : node.index;
      if (i < 0 || i >= size) return nullptr;
      return value[static_cast<size_t>(i)];
    }
    case NodeKind::kSlice: return value.is_array() ? SliceArray(value, node) : json();
    case NodeKind::kSubexpression:
    case NodeKind::kPipe: return Evaluate(kids[1], Evaluate(kids[0], value));
    case NodeKind::kProjection:
    case NodeKind::kValueProjection:
    case NodeKind::kFilterProjection: {
      const json base = Evaluate(kids[0], value);
      const bool over_values = node.kind == NodeKind::kValueProjection;
      if (over_values ? !base.is_object() : !base.is_array()) return nullptr;
      json out = json::array();
      for (const json& element : base) {  // an object iterates over its values
        if (node.kind == NodeKind::kFilterProjection && IsFalse(Evaluate(kids[2], element))) {
          continue;
        }
        json result = Evaluate(kids[1], element);
        if (!result.is_null()) out.push_back(std::move(result));
      }
      return out;
    }
    case NodeKind::kFlatten: {
      const json base = Evaluate(kids[0], value);
      if (!base.is_array()) return nullptr;
      json out = json::array();
      for (const json& element : base) {
        if (element.is_array()) {
          out.insert(out.end(), element.begin(), element.end());
        } else {
          out.push_back(element);
        }
      }
      return out;
    }
    case NodeKind::kComparator:
      return Compare(node.op, Evaluate(kids[0], value), Evaluate(kids[1], value));
    case NodeKind::kAnd: {
      json left = Evaluate(kids[0], value);
      return IsFalse(left) ? left : Evaluate(kids[1], value);
    }
    case NodeKind::kOr: {
      json left = Evaluate(kids[0], value);
      return IsFalse(left) ? Evaluate(kids[1], value) : left;
    }
    case NodeKind::kNot: return IsFalse(Evaluate(kids[0], value));
    case NodeKind::kMultiSelectList: {
      if (value.is_null()) return nullptr;
      json out = json::array();
      for (const Node& kid : kids) out.push_back(Evaluate(kid, value));
      return out;
    }
    case NodeKind::kMultiSelectHash: {
      if (value.is_null()) return nullptr;
      json out = json::object();
      for (size_t i = 0; i < kids.size(); ++i) out[node.keys[i]] = Evaluate(kids[i], value);
      return out;
    }
  }
  return nullptr;
}

}  // namespace

Result<nlohmann::ordered_json> EvaluateQuery(std::string_view expression, const nlohmann::ordered_json& doc) {
  LOTE_ASSIGN_OR_RETURN(Node root, query::Parse(expression));
  return Evaluate(root, doc);
}

}  // namespace lote::cli
