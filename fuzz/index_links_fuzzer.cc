// Folder-URL index pages (storage/http_fetch.h ParseIndexLinks): an input
// URL ending in '/' is listed from whatever HTML its host sends, during the
// invoke; a 200 KB href once crashed the server in std::regex (issue 9).
// Input: a flags byte (bits 0-1: the folder URL, of four; bits 2-4: the href
// limit, tiny to the default 4096; bit 7: the page is its body repeated 64
// times, for pages far over -max_len), then the page.
//
// Invariants: nothing crashes or throws; the only refusal is InvalidArgument,
// and a page is never refused with a limit as long as the page itself (no
// href can be longer); what a page lists does not depend on the limit when
// it is accepted; every link is the folder URL followed by one name (not
// empty, not "." or "..", no '/', '?' or '#'), no longer than the limit, and
// that name, %-decoded as the planner names the downloaded file, is still
// one name (not "." or "..", no '/', no NUL): a link never names the folder
// itself, its parent or a sub-folder; links are sorted and unique.
#include <algorithm>
#include <cstring>
#include <string>

#include "fuzz_util.h"
#include "storage/http_fetch.h"

using lote::fuzz::FuzzCheck;
using lote::fuzz::InputReader;
namespace storage = lote::storage;

namespace {

const std::string kBases[] = {"http://example.com/data/", "https://h:8443/a/b/", "http://127.0.0.1/",
                              "http://[::1]:8080/x%20y/"};
constexpr size_t kLimits[] = {0, 1, 4, 16, 64, 256, 1024, 4096};

bool OneName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  InputReader in(data, size);
  const uint8_t flags = in.Byte();
  const std::string& base = kBases[flags & 3];
  const size_t limit = kLimits[(flags >> 2) & 7];
  std::string page(in.Rest());
  if ((flags & 0x80) != 0) {
    std::string one = page;
    for (int i = 1; i < 64; ++i) page += one;
  }

  try {
    auto all = storage::ParseIndexLinks(page, base, std::max<size_t>(page.size(), 1));
    FuzzCheck(all.has_value(), "a page is refused with a limit as long as itself: " +
                                   (all ? std::string() : all.error().message()));
    auto links = storage::ParseIndexLinks(page, base, limit);
    if (!links) {
      FuzzCheck(links.error().code() == lote::ErrorCode::kInvalidArgument,
                "not InvalidArgument: " + links.error().message());
      FuzzCheck(limit < page.size(), "refused with a limit over the page's size");
      return 0;
    }
    FuzzCheck(*links == *all, "what a page lists depends on the href limit");
    FuzzCheck(std::is_sorted(links->begin(), links->end()) &&
                  std::adjacent_find(links->begin(), links->end()) == links->end(),
              "links are not sorted and unique");
    for (const std::string& url : *links) {
      FuzzCheck(url.starts_with(base), "a link outside the folder: " + url);
      const std::string_view name = std::string_view(url).substr(base.size());
      FuzzCheck(OneName(name) && name.find_first_of("?#") == std::string_view::npos,
                "a link that is not one file name in the folder: '" + std::string(name) + "'");
      FuzzCheck(name.size() <= limit, "a link of " + std::to_string(name.size()) + " bytes passes the limit of " +
                                          std::to_string(limit));
      const std::string decoded = storage::PercentDecode(name);
      FuzzCheck(OneName(decoded), "a link whose name decodes to '" + decoded + "', not one file name in the folder");
    }
  } catch (const std::exception& e) {
    FuzzCheck(false, std::string("an exception escapes: ") + e.what());
  }
  return 0;
}
