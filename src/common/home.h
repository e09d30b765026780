// The layout of lote's home directory (LOTE_HOME, default ~/.lote), shared by
// the server that owns it and the CLI that finds a local server through it.
#pragma once

#include <filesystem>

#include "common/status.h"

namespace lote {

struct HomeLayout {
  std::filesystem::path root;

  std::filesystem::path metadata_db() const { return root / "metadata.db"; }
  std::filesystem::path admin_token() const { return root / "admin_token"; }    // 0600
  std::filesystem::path signing_key() const { return root / "signing_key"; }    // 0600
  std::filesystem::path server_info() const { return root / "server.json"; }    // {"url": …}
  std::filesystem::path models() const { return root / "models"; }
  std::filesystem::path code() const { return root / "code"; }
  std::filesystem::path staging() const { return root / "staging"; }
  std::filesystem::path datastores() const { return root / "datastores"; }
  std::filesystem::path jobs() const { return root / "jobs"; }
};

// LOTE_HOME when set, else $HOME/.lote.
std::filesystem::path DefaultHomeDir();

}  // namespace lote
