// Helpers shared by the model_*_test.cc files.
#pragma once

#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/yaml_doc.h"

namespace lote::model::testing {

// Parses YAML that the test knows to be valid.
inline nlohmann::json Yaml(std::string_view text) {
  auto doc = ParseYaml(text, "test.yml");
  EXPECT_TRUE(doc) << doc.error().message();
  return doc ? doc->value : nlohmann::json();
}

// The error of a Result that must have failed, or a placeholder.
template <class R>
Error ErrorOf(const R& r) {
  EXPECT_FALSE(r) << "expected an error";
  if (r) return Internal("no error");
  return r.error();
}

inline bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace lote::model::testing
