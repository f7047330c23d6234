// The input record (Comment) and its normalized form (Normalized), built once
// per scoring call. Normalization never fails: bad bytes, huge fields and
// malformed IPs become flags that rules can score.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "comment/ip.h"
#include "comment/text.h"
#include "spamguard/spamguard.h"

namespace spamguard::comment {

enum class Kind : int { kComment = SG_KIND_COMMENT, kTrackback = SG_KIND_TRACKBACK, kPingback = SG_KIND_PINGBACK };

constexpr int kFieldCount = SG_FIELD_FORWARDED_FOR + 1;  // indexed by SG_FIELD_*; 0 unused

struct Comment {
  Kind kind = Kind::kComment;
  std::array<std::string, kFieldCount> fields;
  int64_t time = 0;
  void Reset() {
    kind = Kind::kComment;
    for (auto& f : fields) f.clear();
    time = 0;
  }
};

struct Limits {
  size_t max_body_bytes = 65536;
  size_t max_field_bytes = 4096;
  size_t max_links = 100;
  // Peers whose SG_FIELD_FORWARDED_FOR is believed (`trusted_proxy`).
  std::vector<AddressBlock> trusted_proxies;
};

struct Normalized {
  Kind kind = Kind::kComment;
  // Texts scanned by rules. All valid UTF-8, entities decoded, space collapsed.
  std::string body;     // visible text of the body (tags removed)
  std::string rawbody;  // the body as sent (UTF-8 repaired, capped)
  std::string author, email, url, ua, referrer, blog_name, title, excerpt, source_url;
  // Every link: body links first, then the author URL and trackback source.
  std::vector<std::string> links;
  size_t body_links = 0;       // distinct links found in the body
  size_t text_letters = 0;     // letters in the body once links are removed
  size_t text_domains = 0;     // web addresses written without scheme or www ("example.com")
  ScriptSigns scripts;         // look-alike tricks in the body text
  IpAddress ip;                // valid unless SG_FLAG_BAD_IP / SG_FLAG_NO_IP
  int flags = 0;               // SG_FLAG_*
};

void Normalize(const Comment& in, const Limits& limits, Normalized* out);

// Only what the allow/block lists look at: the client IP, e-mail and author
// URL. Cheap enough to run before deciding whether the rest is needed.
void NormalizeIdentity(const Comment& in, const Limits& limits, Normalized* out);

}  // namespace spamguard::comment
