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

constexpr int kFieldCount = SG_FIELD_HONEYPOT + 1;  // indexed by SG_FIELD_*; 0 unused

struct Comment {
  Kind kind = Kind::kComment;
  std::array<std::string, kFieldCount> fields;
  int64_t time = 0;
  // The host checks its comment form: SG_FIELD_FORM_TOKEN was given (even
  // empty, as a post with no token has it).
  bool form = false;
  void Reset() {
    kind = Kind::kComment;
    for (auto& f : fields) f.clear();
    time = 0;
    form = false;
  }
};

struct Limits {
  size_t max_body_bytes = 65536;
  size_t max_field_bytes = 4096;
  size_t max_links = 100;
  // Peers whose SG_FIELD_FORWARDED_FOR is believed (`trusted_proxy`).
  std::vector<AddressBlock> trusted_proxies;
};

// What the engine found checking the comment form (before the rules run;
// the `check form_*` rules score it).
enum FormSign : uint16_t {
  kFormNoToken = 1 << 0,    // the form's token is missing
  kFormMalformed = 1 << 1,  // not a token
  kFormForged = 1 << 2,     // its signature does not verify
  kFormOtherPost = 1 << 3,  // made for another post
  kFormTooFast = 1 << 4,    // sent sooner after the form was shown than a person types
  kFormTooOld = 1 << 5,     // the form was shown longer ago than tokens live
  kFormReplayed = 1 << 6,   // the token was used more often than allowed
  kFormHoneypot = 1 << 7,   // the hidden field people never see was filled
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
  uint16_t form = 0;           // FormSign bits
  std::string form_detail;     // what the token check found (for the hit)
  std::string form_uses;       // how often the token was used, when too often
  std::string honeypot;        // what the hidden field held (clipped)
};

void Normalize(const Comment& in, const Limits& limits, Normalized* out);

// Only what the allow/block lists look at: the client IP, e-mail and author
// URL. Cheap enough to run before deciding whether the rest is needed.
void NormalizeIdentity(const Comment& in, const Limits& limits, Normalized* out);

}  // namespace spamguard::comment
