// The JMESPath subset behind `--query`, as in `az ... --query`.
//
// Supported: identifiers (`a.b`, `"quoted-key"`), `@`, indexes (`[0]`, `[-1]`),
// slices (`[1:3]`, `[::-1]`), projections (`[*]`, `[]`, `*`), filters
// (`[?a=='x' && !(b > `3`)]` with ==, !=, <, <=, >, >=, &&, ||, !, parentheses),
// raw string literals `'x'`, JSON literals `` `100` ``, multiselect lists
// `[a, b]` and hashes `{n: a, t: b}`, and pipes `a | [0]`. Not supported:
// function calls (`length(a)`) and expression references (`&a`).
//
// Semantics follow the JMESPath spec: a missing key or an index out of range
// yields null, a projection drops null results and applies what follows to
// each element until a pipe, and ordering comparisons apply to two numbers or,
// as in jmespath.py (what az uses), two strings; anything else compares null.
//
// Multiselect hash keys come out in the order the query names them (the
// documents are nlohmann::ordered_json; other objects keep their order).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"

namespace lote::cli {

// Evaluates `expression` against `doc`. A syntax error is InvalidArgument and
// its message names the expression and the (1-based) character at fault:
//   invalid query "a.]": syntax error at character 3: expected ...
// Evaluation itself never fails.
Result<nlohmann::ordered_json> EvaluateQuery(std::string_view expression, const nlohmann::ordered_json& doc);

}  // namespace lote::cli
