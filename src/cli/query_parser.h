// The syntax tree of a `--query` expression and its parser; query.cc
// evaluates it. The language is described in query.h.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lote::cli::query {

// Parse refuses trees deeper than this (plus a few levels), so that neither
// the parser nor the recursive evaluator can run out of stack on hostile input.
inline constexpr int kMaxDepth = 200;

enum class NodeKind {
  kIdentity,          // the current value (also `@`)
  kField,             // name
  kLiteral,           // value
  kIndex,             // index
  kSlice,             // slice
  kSubexpression,     // children[1] applied to children[0]
  kProjection,        // children[1] applied to each element of children[0]
  kValueProjection,   // children[1] applied to each value of object children[0]
  kFilterProjection,  // as kProjection, for elements where children[2] is true
  kFlatten,           // children[0] with nested arrays merged one level
  kComparator,        // op applied to children[0] and children[1]
  kAnd,
  kOr,
  kNot,
  kPipe,
  kMultiSelectList,  // [children...]
  kMultiSelectHash,  // {keys[i]: children[i]}
};

enum class CompareOp { kEq, kNe, kLt, kLte, kGt, kGte };

struct Node {
  NodeKind kind = NodeKind::kIdentity;
  std::string name;
  nlohmann::ordered_json value;
  int64_t index = 0;
  std::array<std::optional<int64_t>, 3> slice;  // start, stop, step (never 0)
  CompareOp op = CompareOp::kEq;
  std::vector<std::string> keys;
  std::vector<Node> children;
  int depth = 1;  // of the tree under this node
};

// A syntax error is InvalidArgument naming the expression and the 1-based
// character at fault.
Result<Node> Parse(std::string_view expression);

}  // namespace lote::cli::query
