// Fuzz target: the dump reader of the command (JSON Lines records), then
// the conversion of a record into a comment and its scoring.
#include <cstddef>
#include <cstdint>
#include <string>

#include "record.h"
#include "spamguard/spamguard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sg_engine* engine = [] {
    sg_config* c = nullptr;
    sg_config_new(&c);
    sg_config_set_str(c, SG_CFG_DATABASE, "none");
    sg_engine* e = nullptr;
    sg_engine_open_string(&e, "body A /a+b/\nuri U /x/\n", 22, "fuzz.cf", c);
    sg_config_free(c);
    return e;
  }();
  sgcli::Record rec, full;
  std::string error, full_error;
  std::string line(reinterpret_cast<const char*>(data), size);
  bool ok = sgcli::ParseJsonRecord(line, &rec, &error);
  // The single-pass scanner and the full parser must agree.
  bool full_ok = sgcli::ParseJsonRecordFull(line, &full, &full_error);
  if (ok != full_ok || error != full_error ||
      (ok && (rec.id != full.id || rec.kind != full.kind || rec.author != full.author || rec.email != full.email ||
              rec.url != full.url || rec.ip != full.ip || rec.body != full.body || rec.label != full.label ||
              rec.created != full.created || rec.title != full.title || rec.excerpt != full.excerpt)))
    __builtin_trap();
  if (!ok) return 0;
  sg_comment* c = nullptr;
  sg_comment_new(&c);
  if (sgcli::ToComment(rec, c) == SG_OK) {
    sg_result* r = nullptr;
    sg_engine_score(&r, engine, c);
    sg_result_free(r);
  }
  sg_comment_free(c);
  return 0;
}
