// One HTTP request as the server's handlers see it.
//
// The server fills it on its I/O thread once the request line and headers are
// complete; routes read it from the handler pool. Nothing in it points into
// the connection, so a handler may keep it as long as it runs.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lote::http {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method;  // "GET", as sent (methods are case-sensitive)
  std::string target;  // the request target exactly as sent: "/a/b%20c?x=1"
  std::string path;    // target before '?', not decoded: what routes and auth match
  std::vector<std::pair<std::string, std::string>> query;   // decoded ('+' is a space)
  std::vector<Header> headers;                              // in arrival order
  std::vector<std::pair<std::string, std::string>> params;  // the route's captures, decoded
  std::string body;  // buffered routes only (streamed routes get a BodySink)

  // The first header named `name` (ASCII case-insensitive), or "" when absent.
  std::string_view HeaderValue(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // The first query parameter named `name`, or "" when absent.
  std::string_view Query(std::string_view name) const;
  bool HasQuery(std::string_view name) const;
  // The route capture named `name` ("{job}" in the pattern), or "" when absent.
  std::string_view Param(std::string_view name) const;
};

// ASCII case-insensitive equality, for header names.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace lote::http
