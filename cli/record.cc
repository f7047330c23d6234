#include "record.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace sgcli {

bool ParseTime(const std::string& s, int64_t* out) {
  int Y, M, D, h = 0, m = 0, sec = 0, used = 0;
  if (sscanf(s.c_str(), "%4d-%2d-%2d%n", &Y, &M, &D, &used) != 3) return false;
  size_t i = size_t(used);
  if (i < s.size() && (s[i] == 'T' || s[i] == ' ')) {
    int u2 = 0;
    if (sscanf(s.c_str() + i + 1, "%2d:%2d%n", &h, &m, &u2) != 2) return false;
    i += 1 + size_t(u2);
    if (i < s.size() && s[i] == ':') {
      int u3 = 0;
      if (sscanf(s.c_str() + i + 1, "%2d%n", &sec, &u3) != 1) return false;
      i += 1 + size_t(u3);
    }
    if (i < s.size() && s[i] == '.')
      for (++i; i < s.size() && isdigit(static_cast<unsigned char>(s[i])); ++i) {
      }
  }
  int64_t offset = 0;
  if (i < s.size()) {
    if (s[i] == 'Z' || s[i] == 'z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      int oh = 0, om = 0;
      if (sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) < 1) return false;
      offset = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
      i = s.size();
    }
  }
  if (i != s.size()) return false;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return false;
  struct tm tm = {};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  *out = int64_t(timegm(&tm)) - offset;
  return true;
}

int KindOf(const std::string& s) {
  std::string k;
  for (char c : s) k.push_back(char(tolower(static_cast<unsigned char>(c))));
  if (k == "trackback") return SG_KIND_TRACKBACK;
  if (k == "pingback") return SG_KIND_PINGBACK;
  if (k.empty() || k == "comment") return SG_KIND_COMMENT;
  return 0;
}

int ToComment(const Record& r, sg_comment* c) {
  sg_comment_reset(c);
  int kind = KindOf(r.kind);
  int rc = sg_comment_set_kind(c, kind == 0 ? SG_KIND_COMMENT : kind);
  const struct {
    int field;
    const std::string* value;
  } fields[] = {
      {SG_FIELD_ID, &r.id},           {SG_FIELD_AUTHOR, &r.author},       {SG_FIELD_EMAIL, &r.email},
      {SG_FIELD_URL, &r.url},         {SG_FIELD_IP, &r.ip},               {SG_FIELD_USER_AGENT, &r.user_agent},
      {SG_FIELD_REFERRER, &r.referrer}, {SG_FIELD_BODY, &r.body},         {SG_FIELD_POST_ID, &r.post_id},
      {SG_FIELD_PERMALINK, &r.permalink}, {SG_FIELD_BLOG_NAME, &r.blog_name}, {SG_FIELD_TITLE, &r.title},
      {SG_FIELD_EXCERPT, &r.excerpt}, {SG_FIELD_SOURCE_URL, &r.source_url},
  };
  for (const auto& f : fields) {
    if (rc < 0) return rc;
    if (!f.value->empty()) rc = sg_comment_set_field(c, f.field, f.value->data(), f.value->size());
  }
  if (rc < 0) return rc;
  return sg_comment_set_time(c, r.time);
}

bool ParseJsonRecord(const std::string& line, Record* out, std::string* error) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *error = "not valid JSON";
    return false;
  }
  if (!j.is_object()) {
    *error = "not a JSON object";
    return false;
  }
  *out = Record();
  auto get = [&](const char* key, std::string* dst) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    if (it->is_string()) *dst = it->get<std::string>();
    else *dst = it->dump();
  };
  get("id", &out->id);
  get("type", &out->kind);
  if (out->kind.empty()) get("kind", &out->kind);
  get("author", &out->author);
  get("email", &out->email);
  get("url", &out->url);
  get("ip", &out->ip);
  get("user_agent", &out->user_agent);
  get("referrer", &out->referrer);
  get("body", &out->body);
  get("post_id", &out->post_id);
  get("permalink", &out->permalink);
  get("blog_name", &out->blog_name);
  get("title", &out->title);
  get("excerpt", &out->excerpt);
  get("source_url", &out->source_url);
  get("created", &out->created);
  get("label", &out->label);
  if (KindOf(out->kind) == 0) {
    *error = "unknown type '" + out->kind + "' (comment, trackback or pingback)";
    return false;
  }
  if (!out->created.empty() && !ParseTime(out->created, &out->time)) {
    *error = "created: not an ISO 8601 time: '" + out->created + "'";
    return false;
  }
  return true;
}

}  // namespace sgcli
