// Fuzz target: the C API scoring path with arbitrary bytes in every field,
// the form token and the honeypot included (checked against a configured
// form secret). The input is split on 0xFF bytes into the kind and the
// fields, in order.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "spamguard/spamguard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sg_engine* engine = [] {
    sg_config* c = nullptr;
    sg_config_new(&c);
    sg_config_set_str(c, SG_CFG_DATABASE, "none");
    sg_engine* e = nullptr;
    static const char kRules[] = "include " SG_SOURCE_DIR "/data/spamguard.cf\nform_secret fuzzing-secret-0123456789\n";
    sg_engine_open_string(&e, kRules, sizeof kRules - 1, "fuzz.cf", c);
    sg_config_free(c);
    return e;
  }();
  sg_comment* c = nullptr;
  sg_comment_new(&c);
  const char* p = reinterpret_cast<const char*>(data);
  const char* end = p + size;
  int field = 0;
  while (p <= end) {
    const char* sep = static_cast<const char*>(memchr(p, 0xFF, size_t(end - p)));
    if (sep == nullptr) sep = end;
    if (field == 0) sg_comment_set_kind(c, 1 + (sep > p ? (unsigned char)*p % 3 : 0));
    else if (field <= SG_FIELD_HONEYPOT) sg_comment_set_field(c, field, p, size_t(sep - p));
    ++field;
    p = sep + 1;
  }
  sg_result* r = nullptr;
  if (sg_engine_score(&r, engine, c) == SG_OK) {
    char* json = nullptr;
    sg_result_to_json(&json, nullptr, r);
    sg_free(json);
  }
  sg_result_free(r);
  sg_comment_free(c);
  return 0;
}
