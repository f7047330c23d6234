#include "comment/comment.h"

#include <algorithm>
#include <string_view>

#include "comment/text.h"

namespace spamguard::comment {
namespace {

// Caps, repairs UTF-8 and records what happened in `flags`.
void Clean(std::string_view raw, size_t cap, std::string* out, int* flags) {
  std::string_view capped;
  if (CapBytes(raw, cap, &capped)) *flags |= SG_FLAG_TRUNCATED;
  if (SanitizeUtf8(capped, out)) *flags |= SG_FLAG_INVALID_UTF8;
}

// A short plain field: cleaned, entities decoded, space collapsed.
void PlainField(std::string_view raw, size_t cap, std::string* out, int* flags, std::string* scratch) {
  Clean(raw, cap, scratch, flags);
  if (scratch->find('&') != std::string::npos) {
    std::string decoded;
    DecodeEntities(*scratch, &decoded);
    CollapseSpace(decoded, out);
  } else {
    CollapseSpace(*scratch, out);
  }
}

size_t CountLetters(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= 0xC0 && c != 0xEF)) ++n;  // lead bytes
  }
  return n;
}

void AddLink(std::string_view raw, Normalized* out, size_t max_links) {
  std::string norm;
  if (!NormalizeLink(raw, &norm)) return;
  if (std::find(out->links.begin(), out->links.end(), norm) != out->links.end()) return;
  if (out->links.size() >= max_links) {
    out->flags |= SG_FLAG_LINKS_CAPPED;
    return;
  }
  out->links.push_back(std::move(norm));
}

void ParseClientIp(const Comment& in, const Limits& limits, Normalized* out) {
  const std::string& ip = in.fields[SG_FIELD_IP];
  if (ip.find_first_not_of(" \t\r\n") == std::string::npos) {
    out->flags |= SG_FLAG_NO_IP;
    return;
  }
  IpAddress peer;
  if (!ParseIp(ip, &peer)) {
    out->flags |= SG_FLAG_BAD_IP;
    return;
  }
  bool via_proxy = false;
  std::string_view fwd = in.fields[SG_FIELD_FORWARDED_FOR];
  if (fwd.size() > limits.max_field_bytes) fwd = fwd.substr(fwd.size() - limits.max_field_bytes);  // the right end counts
  if (!ResolveClient(peer, fwd, limits.trusted_proxies, &out->ip, &via_proxy)) {
    out->ip = IpAddress();
    out->flags |= SG_FLAG_BAD_IP | SG_FLAG_VIA_PROXY;
    return;
  }
  if (via_proxy) out->flags |= SG_FLAG_VIA_PROXY;
}

}  // namespace

void NormalizeIdentity(const Comment& in, const Limits& limits, Normalized* out) {
  *out = Normalized();
  out->kind = in.kind;
  std::string scratch;
  PlainField(in.fields[SG_FIELD_EMAIL], limits.max_field_bytes, &out->email, &out->flags, &scratch);
  PlainField(in.fields[SG_FIELD_URL], limits.max_field_bytes, &out->url, &out->flags, &scratch);
  ParseClientIp(in, limits, out);
}

void Normalize(const Comment& in, const Limits& limits, Normalized* out) {
  *out = Normalized();
  out->kind = in.kind;
  const auto& f = in.fields;
  // Working buffers, kept by the thread from one comment to the next (no
  // allocation per comment once they have grown).
  thread_local std::string scratch, visible, without_links;
  thread_local std::vector<std::string> found;
  scratch.clear();
  visible.clear();
  without_links.clear();
  found.clear();

  // Body: raw (for rawbody rules), visible text, links.
  Clean(f[SG_FIELD_BODY], limits.max_body_bytes, &out->rawbody, &out->flags);
  VisibleText(out->rawbody, &visible, &found);
  FindPlainLinks(visible, &found, &without_links);
  for (const auto& l : found) AddLink(l, out, limits.max_links);
  out->body_links = out->links.size();
  out->text_letters = CountLetters(without_links);
  out->text_domains = CountBareDomains(without_links);
  // The visible text may hold decoded references that were not valid text.
  if (SanitizeUtf8(visible, &scratch)) out->flags |= SG_FLAG_INVALID_UTF8;
  CollapseSpace(scratch, &out->body);
  out->scripts = ScanScripts(out->body);

  const size_t cap = limits.max_field_bytes;
  PlainField(f[SG_FIELD_AUTHOR], cap, &out->author, &out->flags, &scratch);
  PlainField(f[SG_FIELD_EMAIL], cap, &out->email, &out->flags, &scratch);
  PlainField(f[SG_FIELD_URL], cap, &out->url, &out->flags, &scratch);
  PlainField(f[SG_FIELD_USER_AGENT], cap, &out->ua, &out->flags, &scratch);
  PlainField(f[SG_FIELD_REFERRER], cap, &out->referrer, &out->flags, &scratch);
  PlainField(f[SG_FIELD_BLOG_NAME], cap, &out->blog_name, &out->flags, &scratch);
  PlainField(f[SG_FIELD_TITLE], cap, &out->title, &out->flags, &scratch);
  PlainField(f[SG_FIELD_SOURCE_URL], cap, &out->source_url, &out->flags, &scratch);

  // The excerpt is HTML like the body; its links count as links of the ping.
  Clean(f[SG_FIELD_EXCERPT], cap, &scratch, &out->flags);
  visible.clear();
  found.clear();
  VisibleText(scratch, &visible, &found);
  FindPlainLinks(visible, &found, nullptr);
  CollapseSpace(visible, &out->excerpt);

  for (const auto& l : found) AddLink(l, out, limits.max_links);
  AddLink(out->url, out, limits.max_links);
  AddLink(out->source_url, out, limits.max_links);

  ParseClientIp(in, limits, out);
}

}  // namespace spamguard::comment
