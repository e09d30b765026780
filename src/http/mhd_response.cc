#include "http/mhd_response.h"

#include <string>

namespace lote::http {

namespace {

ssize_t ProviderRead(void* cls, uint64_t pos, char* buf, size_t max) {
  try {
    ssize_t n = (*static_cast<BodyProvider*>(cls))(pos, buf, max);
    if (n > 0) return n;
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
  } catch (...) {  // on MHD's thread: the client gets a short body, nothing more
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
}

}  // namespace

MHD_Response* ToMhdResponse(Response& res, const std::function<void(std::string_view)>& log) {
  MHD_Response* r = nullptr;
  switch (res.kind) {
    case Response::Kind::kString: {
      auto* body = new std::string(std::move(res.body));  // freed by MHD with the response
      r = MHD_create_response_from_buffer_with_free_callback_cls(
          body->size(), body->data(), [](void* cls) { delete static_cast<std::string*>(cls); }, body);
      if (r == nullptr) delete body;
      break;
    }
    case Response::Kind::kFile:  // not here: read on the pool (http/file_response.h)
      log("http: a file body reached ToMhdResponse; connection closed");
      return nullptr;
    case Response::Kind::kProvider: {
      auto* provider = new BodyProvider(std::move(res.provider));
      r = MHD_create_response_from_callback(
          res.size == kUnknownSize ? MHD_SIZE_UNKNOWN : res.size, 64 << 10, &ProviderRead, provider,
          [](void* cls) { delete static_cast<BodyProvider*>(cls); });
      if (r == nullptr) delete provider;
      break;
    }
  }
  if (r == nullptr) {
    log("http: cannot make a response (out of memory?); connection closed");
    return nullptr;
  }
  AddHeaders(r, res, log);
  return r;
}

void AddHeaders(MHD_Response* r, const Response& res, const std::function<void(std::string_view)>& log) {
  for (const auto& h : res.headers) {
    if (MHD_add_response_header(r, h.name.c_str(), h.value.c_str()) != MHD_YES) {
      log("http: response header '" + h.name + "' refused (not a valid header)");
    }
  }
  if (res.close) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

}  // namespace lote::http
