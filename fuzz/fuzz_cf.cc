// Fuzz target: the .cf parser and rule compiler, fed arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "spamguard/spamguard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sg_config* cfg = [] {
    sg_config* c = nullptr;
    sg_config_new(&c);
    sg_config_set_str(c, SG_CFG_DATABASE, "none");
    sg_config_set_int(c, SG_CFG_RE2_MAX_MEM, 8 << 20);
    return c;
  }();
  sg_engine* e = nullptr;
  if (sg_engine_open_string(&e, reinterpret_cast<const char*>(data), size, "fuzz.cf", cfg) == SG_OK)
    ScoreBody(e, reinterpret_cast<const char*>(data), size);
  sg_engine_close(e);
  return 0;
}
