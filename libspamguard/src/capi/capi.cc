// extern "C" wrappers over the C++ core. Nothing else lives here.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "capi/guard.h"
#include "comment/comment.h"
#include "comment/text.h"
#include "engine/engine.h"
#include "engine/install_paths.h"
#include "spamguard/spamguard.h"
#include "util/numbers.h"

using spamguard::Status;
using spamguard::capi::Fail;
using spamguard::capi::Guard;

struct sg_config {
  int64_t strict_rules = 1;
  int64_t max_body_bytes = 0;
  int64_t max_field_bytes = 0;
  int64_t max_links = 0;
  int64_t re2_max_mem = 0;
  int64_t eager_compile = 0;
  int64_t fail_closed = 0;
  int64_t busy_timeout_ms = 0;
  int64_t ratelimit_mode = 0;
  int64_t read_only = 0;
  std::string database;
};

struct sg_list_entries {
  std::vector<spamguard::store::ListEntry> rep;
};

struct sg_import_report {
  spamguard::engine::ImportReport rep;
};

struct sg_engine {
  std::unique_ptr<spamguard::engine::Engine> rep;
};

struct sg_comment {
  spamguard::comment::Comment rep;
};

struct sg_result {
  spamguard::engine::Verdict rep;
};

namespace spamguard::capi {
namespace {

struct ErrorState {
  int code = SG_OK;
  std::string message;
};
thread_local ErrorState t_error;

struct ParamInfo {
  int key;
  int64_t sg_config::*field;
  int64_t lo, hi;
};
constexpr ParamInfo kParams[] = {
    {SG_CFG_STRICT_RULES, &sg_config::strict_rules, 0, 1},
    {SG_CFG_MAX_BODY_BYTES, &sg_config::max_body_bytes, 64, int64_t(1) << 30},
    {SG_CFG_MAX_FIELD_BYTES, &sg_config::max_field_bytes, 16, int64_t(1) << 24},
    {SG_CFG_MAX_LINKS, &sg_config::max_links, 1, 100000},
    {SG_CFG_RE2_MAX_MEM, &sg_config::re2_max_mem, int64_t(1) << 20, int64_t(1) << 32},
    {SG_CFG_EAGER_COMPILE, &sg_config::eager_compile, 0, 1},
    {SG_CFG_FAIL_CLOSED, &sg_config::fail_closed, 0, 1},
    {SG_CFG_BUSY_TIMEOUT_MS, &sg_config::busy_timeout_ms, 1, 600000},
    {SG_CFG_RATELIMIT_MODE, &sg_config::ratelimit_mode, 1, 2},
    {SG_CFG_READ_ONLY, &sg_config::read_only, 0, 1},
};

const ParamInfo* FindParam(int key) {
  for (const auto& p : kParams)
    if (p.key == key) return &p;
  return nullptr;
}

engine::Options ToOptions(const sg_config* c) {
  engine::Options o;
  o.lazy_compile = true;  // the ABI's default: see SG_CFG_EAGER_COMPILE
  if (c == nullptr) return o;
  o.strict_rules = c->strict_rules != 0;
  o.lazy_compile = c->eager_compile == 0;
  if (c->fail_closed) o.fail_closed = 1;
  o.busy_timeout_ms = c->busy_timeout_ms;
  o.ratelimit_mode = int(c->ratelimit_mode);
  o.read_only = c->read_only != 0;
  o.database = c->database;
  o.re2_max_mem = c->re2_max_mem;
  o.max_body_bytes = c->max_body_bytes;
  o.max_field_bytes = c->max_field_bytes;
  o.max_links = c->max_links;
  return o;
}

const engine::VerdictHit* HitAt(const sg_result* r, size_t i) {
  if (r == nullptr || i >= r->rep.hits.size()) return nullptr;
  return &r->rep.hits[i];
}

// The rule behind a hit, or null for a stage's own symbol.
const rules::Rule* HitRule(const sg_result* r, const engine::VerdictHit* h) {
  return h->rule >= 0 ? &r->rep.rules->rules()[size_t(h->rule)] : nullptr;
}
const char* HitName(const sg_result* r, const engine::VerdictHit* h) {
  const rules::Rule* rule = HitRule(r, h);
  return rule ? rule->name.c_str() : h->name.c_str();
}
const char* HitField(const sg_result* r, const engine::VerdictHit* h) {
  const rules::Rule* rule = HitRule(r, h);
  return rule ? rules::TargetName(rule->target) : h->field;
}
const char* HitDescription(const sg_result* r, const engine::VerdictHit* h) {
  const rules::Rule* rule = HitRule(r, h);
  return rule ? rule->description.c_str() : h->description.c_str();
}

const rules::Rule* RuleAt(const sg_engine* e, size_t i) {
  if (e == nullptr || !e->rep || i >= e->rep->rules().rules().size()) return nullptr;
  return &e->rep->rules().rules()[i];
}

void JsonString(std::string_view s, std::string* out) {
  // The input is valid UTF-8 except where a match was cut; repair first.
  std::string clean;
  comment::SanitizeUtf8(s, &clean);
  out->push_back('"');
  for (unsigned char c : clean) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(char(c));
        }
    }
  }
  out->push_back('"');
}

// Hands `s` to the caller as a NUL-terminated copy it releases with sg_free.
int CopyOut(const std::string& s, char** out, size_t* len) {
  char* buf = static_cast<char*>(std::malloc(s.size() + 1));
  if (buf == nullptr) return Fail(SG_ENOMEM, "out of memory");
  memcpy(buf, s.c_str(), s.size() + 1);
  *out = buf;
  if (len) *len = s.size();
  return SG_OK;
}

std::string JsonNumber(double v) {
  // Trim trailing zeros: 3.500 -> 3.5, 2.000 -> 2.
  std::string s = FormatFixed(v, 3);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

}  // namespace

void SetError(int code, std::string msg) {
  t_error.code = code;
  t_error.message = std::move(msg);
}

void ClearError() {
  t_error.code = SG_OK;
  t_error.message.clear();
}

}  // namespace spamguard::capi

using namespace spamguard;

extern "C" {

SG_API int sg_version_number(void) { return SG_VERSION_NUMBER; }
SG_API const char* sg_version_string(void) { return SG_VERSION_STRING; }

SG_API const char* sg_default_rules(void) {
  static const std::string* path = [] {
    try {
      return new std::string(spamguard::engine::DefaultRulesPath());
    } catch (...) {
      return new std::string;
    }
  }();
  return path->c_str();
}

SG_API const char* sg_status_str(int status) {
  switch (status) {
    case SG_OK: return "ok";
    case SG_ERROR: return "error";
    case SG_EINVAL: return "invalid argument";
    case SG_ENOMEM: return "out of memory";
    case SG_EIO: return "input/output error";
    case SG_ERULE: return "rule error";
    case SG_EPARSE: return "parse error";
    case SG_ENOTFOUND: return "not found";
    case SG_EBUSY: return "busy";
    case SG_ELIMIT: return "limit exceeded";
    case SG_EINTERNAL: return "internal error";
    default: return "unknown status";
  }
}

SG_API const char* sg_error_message(void) { return capi::t_error.message.c_str(); }
SG_API int sg_error_code(void) { return capi::t_error.code; }

SG_API void sg_free(void* p) { std::free(p); }

/* Config ---------------------------------------------------------------- */

SG_API int sg_config_new(sg_config** out) {
  return Guard([&] {
    if (out == nullptr) return Fail(SG_EINVAL, "sg_config_new: out is NULL");
    *out = new sg_config();
    return SG_OK;
  });
}

SG_API void sg_config_free(sg_config* config) { delete config; }

SG_API int sg_config_set_int(sg_config* config, int key, int64_t value) {
  return Guard([&] {
    if (config == nullptr) return Fail(SG_EINVAL, "sg_config_set_int: config is NULL");
    const capi::ParamInfo* p = capi::FindParam(key);
    if (p == nullptr) return Fail(SG_EINVAL, "sg_config_set_int: unknown key " + std::to_string(key));
    if (key == SG_CFG_STRICT_RULES) {
      if (value != 0 && value != 1)
        return Fail(SG_ELIMIT, "sg_config_set_int: SG_CFG_STRICT_RULES must be 0 or 1");
      config->strict_rules = value;
      return SG_OK;
    }
    if (value != 0 && (value < p->lo || value > p->hi))
      return Fail(SG_ELIMIT, "sg_config_set_int: key " + std::to_string(key) + " must be 0 or in [" +
                                 std::to_string(p->lo) + ", " + std::to_string(p->hi) + "], got " +
                                 std::to_string(value));
    config->*(p->field) = value;
    return SG_OK;
  });
}

SG_API int sg_config_get_int(int64_t* out, const sg_config* config, int key) {
  return Guard([&] {
    if (out == nullptr || config == nullptr) return Fail(SG_EINVAL, "sg_config_get_int: NULL argument");
    const capi::ParamInfo* p = capi::FindParam(key);
    if (p == nullptr) return Fail(SG_EINVAL, "sg_config_get_int: unknown key " + std::to_string(key));
    *out = config->*(p->field);
    return SG_OK;
  });
}

SG_API int sg_config_param_bounds(int64_t* lo, int64_t* hi, int key) {
  return Guard([&] {
    if (lo == nullptr || hi == nullptr) return Fail(SG_EINVAL, "sg_config_param_bounds: NULL argument");
    const capi::ParamInfo* p = capi::FindParam(key);
    if (p == nullptr) return Fail(SG_EINVAL, "sg_config_param_bounds: unknown key " + std::to_string(key));
    *lo = p->lo;
    *hi = p->hi;
    return SG_OK;
  });
}

/* Engine ---------------------------------------------------------------- */

SG_API int sg_engine_open(sg_engine** out, const char* cf_path, const sg_config* config) {
  return Guard([&] {
    if (out == nullptr) return Fail(SG_EINVAL, "sg_engine_open: out is NULL");
    *out = nullptr;
    if (cf_path == nullptr) return Fail(SG_EINVAL, "sg_engine_open: cf_path is NULL");
    auto e = std::make_unique<sg_engine>();
    Status st = engine::Engine::OpenFile(cf_path, capi::ToOptions(config), &e->rep);
    if (!st.ok()) return Fail(st);
    *out = e.release();
    return SG_OK;
  });
}

SG_API int sg_engine_open_string(sg_engine** out, const char* cf_text, size_t cf_len, const char* name,
                                 const sg_config* config) {
  return Guard([&] {
    if (out == nullptr) return Fail(SG_EINVAL, "sg_engine_open_string: out is NULL");
    *out = nullptr;
    if (cf_text == nullptr && cf_len > 0) return Fail(SG_EINVAL, "sg_engine_open_string: cf_text is NULL");
    auto e = std::make_unique<sg_engine>();
    Status st = engine::Engine::OpenString(std::string_view(cf_text ? cf_text : "", cf_len),
                                           name ? name : "<string>", capi::ToOptions(config), &e->rep);
    if (!st.ok()) return Fail(st);
    *out = e.release();
    return SG_OK;
  });
}

SG_API void sg_engine_close(sg_engine* engine) { delete engine; }

SG_API size_t sg_engine_rule_count(const sg_engine* engine) {
  return (engine && engine->rep) ? engine->rep->rules().rules().size() : 0;
}
SG_API const char* sg_engine_rule_name(const sg_engine* engine, size_t i) {
  const rules::Rule* r = capi::RuleAt(engine, i);
  return r ? r->name.c_str() : nullptr;
}
SG_API const char* sg_engine_rule_field(const sg_engine* engine, size_t i) {
  const rules::Rule* r = capi::RuleAt(engine, i);
  return r ? rules::TargetName(r->target) : nullptr;
}
SG_API const char* sg_engine_rule_description(const sg_engine* engine, size_t i) {
  const rules::Rule* r = capi::RuleAt(engine, i);
  return r ? r->description.c_str() : nullptr;
}
SG_API double sg_engine_rule_score(const sg_engine* engine, size_t i) {
  const rules::Rule* r = capi::RuleAt(engine, i);
  return r ? r->score : 0.0;
}
SG_API double sg_engine_threshold(const sg_engine* engine, int action) {
  if (engine == nullptr || !engine->rep) return 0.0;
  const rules::Settings& s = engine->rep->rules().settings();
  switch (action) {
    case SG_ACTION_MODERATE: return s.moderate_score;
    case SG_ACTION_SPAM: return s.required_score;
    case SG_ACTION_DISCARD: return s.discard_score;
    default: return 0.0;
  }
}
SG_API size_t sg_engine_warning_count(const sg_engine* engine) {
  return (engine && engine->rep) ? engine->rep->warnings().size() : 0;
}
SG_API const char* sg_engine_warning(const sg_engine* engine, size_t i) {
  if (engine == nullptr || !engine->rep || i >= engine->rep->warnings().size()) return nullptr;
  return engine->rep->warnings()[i].c_str();
}

SG_API int sg_engine_score(sg_result** out, sg_engine* engine, const sg_comment* comment) {
  return Guard([&] {
    if (out == nullptr) return Fail(SG_EINVAL, "sg_engine_score: out is NULL");
    *out = nullptr;
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_score: engine is NULL");
    if (comment == nullptr) return Fail(SG_EINVAL, "sg_engine_score: comment is NULL");
    auto r = std::make_unique<sg_result>();
    engine->rep->Score(comment->rep, &r->rep);
    if (!r->rep.error.ok()) return Fail(r->rep.error);
    *out = r.release();
    return SG_OK;
  });
}

/* Comment --------------------------------------------------------------- */

SG_API int sg_comment_new(sg_comment** out) {
  return Guard([&] {
    if (out == nullptr) return Fail(SG_EINVAL, "sg_comment_new: out is NULL");
    *out = new sg_comment();
    return SG_OK;
  });
}

SG_API void sg_comment_free(sg_comment* comment) { delete comment; }

SG_API void sg_comment_reset(sg_comment* comment) {
  if (comment != nullptr) comment->rep.Reset();
}

SG_API int sg_comment_set_kind(sg_comment* comment, int kind) {
  return Guard([&] {
    if (comment == nullptr) return Fail(SG_EINVAL, "sg_comment_set_kind: comment is NULL");
    if (kind != SG_KIND_COMMENT && kind != SG_KIND_TRACKBACK && kind != SG_KIND_PINGBACK)
      return Fail(SG_EINVAL, "sg_comment_set_kind: unknown kind " + std::to_string(kind));
    comment->rep.kind = comment::Kind(kind);
    return SG_OK;
  });
}

SG_API int sg_comment_set_field(sg_comment* comment, int field, const char* value, size_t len) {
  return Guard([&] {
    if (comment == nullptr) return Fail(SG_EINVAL, "sg_comment_set_field: comment is NULL");
    if (field < SG_FIELD_AUTHOR || field > SG_FIELD_HONEYPOT)
      return Fail(SG_EINVAL, "sg_comment_set_field: unknown field " + std::to_string(field));
    if (value == nullptr && len > 0) return Fail(SG_EINVAL, "sg_comment_set_field: value is NULL");
    comment->rep.fields[size_t(field)].assign(value ? value : "", len);
    if (field == SG_FIELD_FORM_TOKEN) comment->rep.form = true;
    return SG_OK;
  });
}

SG_API int sg_comment_set_time(sg_comment* comment, int64_t unix_seconds) {
  return Guard([&] {
    if (comment == nullptr) return Fail(SG_EINVAL, "sg_comment_set_time: comment is NULL");
    if (unix_seconds < 0 || unix_seconds > SG_TIME_MAX)
      return Fail(SG_EINVAL, "sg_comment_set_time: " + std::to_string(unix_seconds) +
                                 " is out of range (0 for now, or 1 to " + std::to_string(SG_TIME_MAX) +
                                 ", 9999-12-31 23:59:59 UTC)");
    comment->rep.time = unix_seconds;
    return SG_OK;
  });
}

/* Result ---------------------------------------------------------------- */

SG_API void sg_result_free(sg_result* result) { delete result; }
SG_API int sg_result_action(const sg_result* result) { return result ? result->rep.action : SG_ACTION_ACCEPT; }
SG_API double sg_result_score(const sg_result* result) { return result ? result->rep.score : 0.0; }
SG_API int64_t sg_result_retry_after(const sg_result* result) { return result ? result->rep.retry_after : 0; }
SG_API int sg_result_flags(const sg_result* result) { return result ? result->rep.flags : 0; }
SG_API size_t sg_result_hit_count(const sg_result* result) { return result ? result->rep.hits.size() : 0; }

SG_API const char* sg_result_hit_name(const sg_result* result, size_t i) {
  const engine::VerdictHit* h = capi::HitAt(result, i);
  return h ? capi::HitName(result, h) : nullptr;
}
SG_API double sg_result_hit_points(const sg_result* result, size_t i) {
  const engine::VerdictHit* h = capi::HitAt(result, i);
  return h ? h->points : 0.0;
}
SG_API const char* sg_result_hit_field(const sg_result* result, size_t i) {
  const engine::VerdictHit* h = capi::HitAt(result, i);
  return h ? capi::HitField(result, h) : nullptr;
}
SG_API const char* sg_result_hit_description(const sg_result* result, size_t i) {
  const engine::VerdictHit* h = capi::HitAt(result, i);
  return h ? capi::HitDescription(result, h) : nullptr;
}
SG_API const char* sg_result_hit_match(const sg_result* result, size_t i, size_t* len) {
  const engine::VerdictHit* h = capi::HitAt(result, i);
  if (h == nullptr) {
    if (len) *len = 0;
    return nullptr;
  }
  const std::string& m = engine::MatchOf(result->rep, i);
  if (len) *len = m.size();
  return m.c_str();
}

SG_API int sg_result_to_json(char** out, size_t* len, const sg_result* result) {
  return Guard([&] {
    if (out == nullptr) return Fail(SG_EINVAL, "sg_result_to_json: out is NULL");
    *out = nullptr;
    if (len) *len = 0;
    if (result == nullptr) return Fail(SG_EINVAL, "sg_result_to_json: result is NULL");
    const auto& v = result->rep;
    std::string j = "{\"action\":\"";
    j += sg_action_str(v.action);
    j += "\",\"score\":" + capi::JsonNumber(v.score);
    j += ",\"retry_after\":" + std::to_string(v.retry_after);
    j += ",\"flags\":[";
    static const struct { int bit; const char* name; } kFlags[] = {
        {SG_FLAG_INVALID_UTF8, "invalid_utf8"}, {SG_FLAG_TRUNCATED, "truncated"},
        {SG_FLAG_BAD_IP, "bad_ip"},             {SG_FLAG_NO_IP, "no_ip"},
        {SG_FLAG_LINKS_CAPPED, "links_capped"}, {SG_FLAG_STATE_UNAVAILABLE, "state_unavailable"},
        {SG_FLAG_VIA_PROXY, "via_proxy"}};
    bool first = true;
    for (const auto& f : kFlags) {
      if (!(v.flags & f.bit)) continue;
      if (!first) j += ",";
      first = false;
      j += "\"";
      j += f.name;
      j += "\"";
    }
    j += "],\"hits\":[";
    for (size_t i = 0; i < v.hits.size(); ++i) {
      const engine::VerdictHit& h = v.hits[i];
      if (i) j += ",";
      j += "{\"rule\":";
      capi::JsonString(capi::HitName(result, &h), &j);
      j += ",\"points\":" + capi::JsonNumber(h.points) + ",\"field\":\"" + capi::HitField(result, &h) + "\"";
      j += ",\"description\":";
      capi::JsonString(capi::HitDescription(result, &h), &j);
      j += ",\"match\":";
      capi::JsonString(engine::MatchOf(v, i), &j);
      j += "}";
    }
    j += "]}";
    return capi::CopyOut(j, out, len);
  });
}

SG_API int sg_config_set_str(sg_config* config, int key, const char* value) {
  return Guard([&] {
    if (config == nullptr) return Fail(SG_EINVAL, "sg_config_set_str: config is NULL");
    if (key != SG_CFG_DATABASE) return Fail(SG_EINVAL, "sg_config_set_str: unknown key " + std::to_string(key));
    config->database = value ? value : "";
    return SG_OK;
  });
}

SG_API int sg_engine_has_state(const sg_engine* engine) { return engine && engine->rep && engine->rep->has_state(); }
SG_API const char* sg_engine_state_message(const sg_engine* engine) {
  return engine && engine->rep ? engine->rep->state_error().c_str() : "";
}

SG_API int sg_engine_learn(sg_engine* engine, const sg_comment* comment, int label) {
  return Guard([&] {
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_learn: engine is NULL");
    if (comment == nullptr) return Fail(SG_EINVAL, "sg_engine_learn: comment is NULL");
    Status st = engine->rep->Learn(comment->rep, label);
    return st.ok() ? SG_OK : Fail(st);
  });
}

SG_API int sg_engine_batch(sg_engine* engine, int on) {
  return Guard([&] {
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_batch: engine is NULL");
    Status st = engine->rep->Batch(on != 0);
    return st.ok() ? SG_OK : Fail(st);
  });
}

SG_API int sg_engine_forget(int* forgotten, sg_engine* engine, const sg_comment* comment) {
  return Guard([&] {
    if (forgotten) *forgotten = 0;
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_forget: engine is NULL");
    if (comment == nullptr) return Fail(SG_EINVAL, "sg_engine_forget: comment is NULL");
    bool found = false;
    Status st = engine->rep->Forget(comment->rep, &found);
    if (!st.ok()) return Fail(st);
    if (forgotten) *forgotten = found ? 1 : 0;
    return SG_OK;
  });
}

SG_API int sg_engine_form_token(const sg_engine* engine, const char* post_id, size_t post_id_len, int64_t now,
                                char* buf, size_t buf_size) {
  return Guard([&] {
    if (buf != nullptr && buf_size > 0) buf[0] = '\0';
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_form_token: engine is NULL");
    if (post_id == nullptr && post_id_len > 0) return Fail(SG_EINVAL, "sg_engine_form_token: post_id is NULL");
    if (buf == nullptr || buf_size < SG_FORM_TOKEN_SIZE)
      return Fail(SG_EINVAL, "sg_engine_form_token: buf is NULL or smaller than SG_FORM_TOKEN_SIZE");
    if (now < 0 || now > SG_TIME_MAX)
      return Fail(SG_EINVAL, "sg_engine_form_token: time " + std::to_string(now) + " is out of range");
    std::string token;
    Status st = engine->rep->FormToken(std::string_view(post_id ? post_id : "", post_id_len), now, &token);
    if (!st.ok()) return Fail(st);
    memcpy(buf, token.c_str(), token.size() + 1);
    return SG_OK;
  });
}

SG_API int sg_engine_form_rotate(sg_engine* engine) {
  return Guard([&] {
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_form_rotate: engine is NULL");
    Status st = engine->rep->RotateFormSecret(0);
    return st.ok() ? SG_OK : Fail(st);
  });
}

SG_API int sg_engine_list_export(int64_t* ranges, const sg_engine* engine, int format, const char* name, int family,
                                 const char* ports, int64_t now, sg_write_fn write, void* ctx) {
  return Guard([&] {
    if (ranges) *ranges = 0;
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_list_export: engine is NULL");
    if (write == nullptr) return Fail(SG_EINVAL, "sg_engine_list_export: write is NULL");
    if (now < 0 || now > SG_TIME_MAX)
      return Fail(SG_EINVAL, "sg_engine_list_export: time " + std::to_string(now) + " is out of range");
    lists::ExportOptions opts;
    opts.format = lists::ExportFormat(format);
    if (name) opts.name = name;
    opts.family = family;
    if (ports) opts.ports = ports;
    opts.now = now;
    Status st = engine->rep->ListExport(
        opts, [&](std::string_view s) { return write(ctx, s.data(), s.size()) == 0; }, ranges);
    return st.ok() ? SG_OK : Fail(st);
  });
}

SG_API int sg_engine_list_add(sg_engine* engine, int list, int kind, const char* entry, const char* source,
                              const char* reason, int64_t expires) {
  return Guard([&] {
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_list_add: engine is NULL");
    if (entry == nullptr || source == nullptr) return Fail(SG_EINVAL, "sg_engine_list_add: entry or source is NULL");
    Status st = engine->rep->ListAdd(list, kind, entry, source, reason ? reason : "", expires);
    return st.ok() ? SG_OK : Fail(st);
  });
}

SG_API int sg_engine_list_remove(size_t* removed, sg_engine* engine, int list, const char* entry) {
  return Guard([&] {
    if (removed) *removed = 0;
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_list_remove: engine is NULL");
    if (entry == nullptr) return Fail(SG_EINVAL, "sg_engine_list_remove: entry is NULL");
    size_t n = 0;
    Status st = engine->rep->ListRemove(list, entry, &n);
    if (!st.ok()) return Fail(st);
    if (removed) *removed = n;
    return SG_OK;
  });
}

SG_API int sg_engine_list_import(sg_import_report** out, sg_engine* engine, int list, const char* path,
                                 const char* source, const char* reason, int64_t expires) {
  return Guard([&] {
    if (out == nullptr) return Fail(SG_EINVAL, "sg_engine_list_import: out is NULL");
    *out = nullptr;
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_list_import: engine is NULL");
    if (path == nullptr || source == nullptr) return Fail(SG_EINVAL, "sg_engine_list_import: path or source is NULL");
    auto r = std::make_unique<sg_import_report>();
    Status st = engine->rep->ListImport(list, path, source, reason ? reason : "", expires, &r->rep);
    if (!st.ok()) return Fail(st);
    *out = r.release();
    return SG_OK;
  });
}

SG_API int sg_engine_keywords_import(sg_import_report** out, sg_engine* engine, int kind, const char* path,
                                     const char* source) {
  return Guard([&] {
    if (out == nullptr) return Fail(SG_EINVAL, "sg_engine_keywords_import: out is NULL");
    *out = nullptr;
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_keywords_import: engine is NULL");
    if (path == nullptr || source == nullptr) return Fail(SG_EINVAL, "sg_engine_keywords_import: path or source is NULL");
    auto r = std::make_unique<sg_import_report>();
    Status st = engine->rep->KeywordImport(kind, path, source, &r->rep);
    if (!st.ok()) return Fail(st);
    *out = r.release();
    return SG_OK;
  });
}

SG_API int sg_engine_copy(sg_import_report** out, sg_engine* engine, const char* to_database) {
  return Guard([&] {
    if (out == nullptr) return Fail(SG_EINVAL, "sg_engine_copy: out is NULL");
    *out = nullptr;
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_copy: engine is NULL");
    if (to_database == nullptr) return Fail(SG_EINVAL, "sg_engine_copy: to_database is NULL");
    auto r = std::make_unique<sg_import_report>();
    Status st = engine->rep->CopyTo(to_database, &r->rep);
    if (!st.ok()) return Fail(st);
    *out = r.release();
    return SG_OK;
  });
}

SG_API void sg_import_report_free(sg_import_report* report) { delete report; }
SG_API size_t sg_import_report_imported(const sg_import_report* report) { return report ? report->rep.imported : 0; }
SG_API size_t sg_import_report_skipped(const sg_import_report* report) { return report ? report->rep.skipped : 0; }
SG_API size_t sg_import_report_message_count(const sg_import_report* report) {
  return report ? report->rep.messages.size() : 0;
}
SG_API const char* sg_import_report_message(const sg_import_report* report, size_t i) {
  if (report == nullptr || i >= report->rep.messages.size()) return nullptr;
  return report->rep.messages[i].c_str();
}

SG_API const char* sg_action_str(int action) {
  switch (action) {
    case SG_ACTION_ACCEPT: return "accept";
    case SG_ACTION_MODERATE: return "moderate";
    case SG_ACTION_SPAM: return "spam";
    case SG_ACTION_DISCARD: return "discard";
    case SG_ACTION_THROTTLE: return "throttle";
    default: return "unknown";
  }
}

}  // extern "C"

/* Explaining an address, list entries, stats ----------------------------- */

SG_API int sg_engine_explain_ip(sg_result** out, sg_engine* engine, const char* ip, int64_t now) {
  return Guard([&] {
    if (out == nullptr) return Fail(SG_EINVAL, "sg_engine_explain_ip: out is NULL");
    *out = nullptr;
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_explain_ip: engine is NULL");
    if (ip == nullptr) return Fail(SG_EINVAL, "sg_engine_explain_ip: ip is NULL");
    auto r = std::make_unique<sg_result>();
    Status st = engine->rep->ExplainIp(ip, now, &r->rep);
    if (!st.ok()) return Fail(st);
    *out = r.release();
    return SG_OK;
  });
}

SG_API int sg_engine_list_entries(sg_list_entries** out, sg_engine* engine, int list, const char* source,
                                  size_t limit) {
  return Guard([&] {
    if (out == nullptr) return Fail(SG_EINVAL, "sg_engine_list_entries: out is NULL");
    *out = nullptr;
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_list_entries: engine is NULL");
    auto r = std::make_unique<sg_list_entries>();
    std::string src = source ? source : "";
    Status st = engine->rep->ListEntries(list, source ? &src : nullptr, limit, &r->rep);
    if (!st.ok()) return Fail(st);
    *out = r.release();
    return SG_OK;
  });
}

namespace {
using spamguard::store::ListEntry;
// Field f of entry i, or `none` when there is no such entry.
template <typename T>
T EntryField(const sg_list_entries* es, size_t i, T ListEntry::*f, T none) {
  return es != nullptr && i < es->rep.size() ? es->rep[i].*f : none;
}
const char* EntryText(const sg_list_entries* es, size_t i, std::string ListEntry::*f) {
  return es != nullptr && i < es->rep.size() ? (es->rep[i].*f).c_str() : nullptr;
}
}  // namespace

SG_API void sg_list_entries_free(sg_list_entries* entries) { delete entries; }
SG_API size_t sg_list_entries_count(const sg_list_entries* entries) { return entries ? entries->rep.size() : 0; }
SG_API int sg_list_entries_list(const sg_list_entries* entries, size_t i) {
  return EntryField(entries, i, &ListEntry::list, 0);
}
SG_API int sg_list_entries_kind(const sg_list_entries* entries, size_t i) {
  return EntryField(entries, i, &ListEntry::kind, 0);
}
SG_API const char* sg_list_entries_value(const sg_list_entries* entries, size_t i) {
  return EntryText(entries, i, &ListEntry::what);
}
SG_API const char* sg_list_entries_source(const sg_list_entries* entries, size_t i) {
  return EntryText(entries, i, &ListEntry::source);
}
SG_API const char* sg_list_entries_reason(const sg_list_entries* entries, size_t i) {
  return EntryText(entries, i, &ListEntry::reason);
}
SG_API int64_t sg_list_entries_added(const sg_list_entries* entries, size_t i) {
  return EntryField<int64_t>(entries, i, &ListEntry::added, 0);
}
SG_API int64_t sg_list_entries_expires(const sg_list_entries* entries, size_t i) {
  return EntryField<int64_t>(entries, i, &ListEntry::expires, 0);
}

SG_API const char* sg_entry_kind_str(int kind) {
  switch (kind) {
    case SG_ENTRY_IP: return "ip";
    case SG_ENTRY_EMAIL: return "email";
    case SG_ENTRY_EMAIL_DOMAIN: return "email-domain";
    case SG_ENTRY_URL_DOMAIN: return "url-domain";
    default: return "unknown";
  }
}

SG_API int sg_engine_prune(char** out, size_t* len, sg_engine* engine, int64_t now) {
  return Guard([&] {
    if (out) *out = nullptr;
    if (len) *len = 0;
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_prune: engine is NULL");
    spamguard::store::PruneCounts c;
    int days = 0;
    Status st = engine->rep->Prune(now, &c, &days);
    if (!st.ok()) return Fail(st);
    if (out == nullptr) return SG_OK;
    std::string j = "{\"retention_days\":" + std::to_string(days) + ",\"learned\":" + std::to_string(c.learned) +
                    ",\"reputation\":" + std::to_string(c.reputation) + ",\"ratelimit\":" + std::to_string(c.ratelimit) +
                    ",\"list_entries\":" + std::to_string(c.list_entries) + "}";
    return capi::CopyOut(j, out, len);
  });
}

SG_API int sg_engine_stats(char** out, size_t* len, sg_engine* engine) {
  return Guard([&] {
    if (out == nullptr) return Fail(SG_EINVAL, "sg_engine_stats: out is NULL");
    *out = nullptr;
    if (len) *len = 0;
    if (engine == nullptr || !engine->rep) return Fail(SG_EINVAL, "sg_engine_stats: engine is NULL");
    spamguard::store::StoreStats s;
    Status st = engine->rep->Stats(&s);
    if (!st.ok()) return Fail(st);
    auto list_name = [](int l) { return l == SG_LIST_ALLOW ? "\"allow\"" : "\"block\""; };
    std::string j = "{\"database\":";
    capi::JsonString(s.path, &j);
    j += ",\"schema_version\":" + std::to_string(s.schema_version);
    j += ",\"file_bytes\":" + std::to_string(s.file_bytes);
    j += std::string(",\"read_only\":") + (s.read_only ? "true" : "false");
    j += ",\"lists\":[";
    for (size_t i = 0; i < s.lists.size(); ++i) {
      const auto& l = s.lists[i];
      j += std::string(i ? "," : "") + "{\"list\":" + list_name(l.list) + ",\"kind\":\"" + sg_entry_kind_str(l.kind) +
           "\",\"active\":" + std::to_string(l.active) + ",\"expired\":" + std::to_string(l.expired) + "}";
    }
    j += "],\"sources\":[";
    for (size_t i = 0; i < s.sources.size(); ++i) {
      const auto& src = s.sources[i];
      j += std::string(i ? "," : "") + "{\"list\":" + list_name(src.list) + ",\"source\":";
      capi::JsonString(src.source, &j);
      j += ",\"entries\":" + std::to_string(src.entries) + "}";
    }
    j += "],\"reputation\":{\"keys\":" + std::to_string(s.reputation_keys) +
         ",\"spam\":" + capi::JsonNumber(s.reputation_spam) + ",\"ham\":" + capi::JsonNumber(s.reputation_ham) + "}";
    j += ",\"learned\":{\"spam\":" + std::to_string(s.learned_spam) + ",\"ham\":" + std::to_string(s.learned_ham) + "}";
    j += ",\"learner\":{\"spam\":" + std::to_string(s.learner.spam) + ",\"ham\":" + std::to_string(s.learner.ham) +
         ",\"tokens\":" + std::to_string(s.learner.tokens) + ",\"max_tokens\":" + std::to_string(s.learner_max_tokens) +
         ",\"min_spam\":" + std::to_string(s.learner_min_spam) + ",\"min_ham\":" + std::to_string(s.learner_min_ham) +
         ",\"rules\":" + std::to_string(s.learner_rules) + ",\"scoring\":" +
         (s.learner_rules > 0 && s.learner.spam >= s.learner_min_spam && s.learner.ham >= s.learner_min_ham ? "true"
                                                                                                              : "false") +
         "}";
    j += ",\"ratelimit_keys\":" + std::to_string(s.ratelimit_keys);
    j += ",\"ratelimits\":{\"file\":";
    capi::JsonString(s.ratelimit_path, &j);
    j += ",\"keys\":" + std::to_string(s.ratelimit_keys) + ",\"unavailable\":";
    if (s.ratelimit_error.empty()) j += "null";
    else capi::JsonString(s.ratelimit_error, &j);
    j += std::string(",\"when_unavailable\":\"") + (s.ratelimit_fail_closed ? "throttle" : "allow") + "\"}";
    j += std::string(",\"forms\":{\"secret\":\"") +
         (s.form_secret_configured ? "rule file" : s.form_secrets > 0 ? "database" : "none yet") +
         "\",\"secrets\":" + std::to_string(s.form_secrets) + ",\"newest\":" + std::to_string(s.form_secret_newest) +
         ",\"tokens_counted\":" + std::to_string(s.form_tokens) + ",\"rules\":" + std::to_string(s.form_rules) + "}";
    j += ",\"keywords\":[";
    for (size_t i = 0; i < s.keyword_sources.size(); ++i) {
      const auto& k = s.keyword_sources[i];
      j += i ? ",{\"source\":" : "{\"source\":";
      capi::JsonString(k.source, &j);
      j += std::string(",\"kind\":\"") + (k.kind == 1 ? "phrases" : "link-patterns") +
           "\",\"entries\":" + std::to_string(k.entries) + "}";
    }
    j += "],\"atoms\":{\"with_atoms\":" + std::to_string(s.rules_filtered) +
         ",\"always_run\":" + std::to_string(s.rules_unfiltered) + ",\"atoms\":" + std::to_string(s.rule_atoms) +
         ",\"from_cache\":" + std::to_string(s.rules_from_cache) + ",\"cache\":";
    capi::JsonString(s.rule_cache, &j);
    j += "}}";
    return capi::CopyOut(j, out, len);
  });
}
