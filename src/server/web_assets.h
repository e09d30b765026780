// The dashboard's files (web/), built into the binary (cmake/embed_web.cmake)
// so `lote serve` serves every asset itself: no CDN, no files beside it.
#pragma once

#include <span>
#include <string_view>

namespace lote::server {

struct WebAsset {
  std::string_view path;  // relative to web/: "index.html", "app.js"
  std::string_view body;
};

// Every file of web/, sorted by path.
std::span<const WebAsset> WebAssets();

}  // namespace lote::server
