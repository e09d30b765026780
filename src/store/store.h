// The metadata store: the one place the control plane keeps its state.
//
// Resources are JSON documents (docs/resources.md) keyed by kind and key
// ("cpu-cluster", "autolog/1"). Implementations are thread-safe; every call is
// atomic, and Transaction() groups calls so that they all happen or none does
// (a failing Status from the callback rolls back). Only the control plane
// opens the store; agents and workers go through the REST API.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace lote::store {

enum class Kind { kCompute, kModel, kDataAsset, kDatastore, kEndpoint };

std::string_view KindName(Kind kind);  // "compute", "model", … for messages

class Store {
 public:
  virtual ~Store() = default;

  // AlreadyExists when the key is taken.
  virtual Status Insert(Kind kind, std::string_view key, const nlohmann::json& doc) = 0;
  // NotFound when the key is absent.
  virtual Result<nlohmann::json> Get(Kind kind, std::string_view key) = 0;
  // Documents whose key starts with key_prefix, in insertion order.
  virtual Result<std::vector<nlohmann::json>> List(Kind kind, std::string_view key_prefix = "") = 0;
  // Replaces an existing document; NotFound when absent.
  virtual Status Replace(Kind kind, std::string_view key, const nlohmann::json& doc) = 0;
  // NotFound when absent.
  virtual Status Delete(Kind kind, std::string_view key) = 0;
  // Runs fn inside one transaction. Calls made by fn on this store join it.
  virtual Status Transaction(const std::function<Status()>& fn) = 0;
};

}  // namespace lote::store
