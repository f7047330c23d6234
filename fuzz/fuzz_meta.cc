// Fuzz target: the meta compiler's depth. The input's bytes draw a graph of
// metas (each byte: which earlier or later meta, or a body rule, the next
// meta uses, and how), expanded to chains of thousands of metas with cycles
// and unknown names; loading and scoring must neither recurse by the
// input's depth nor grow faster than the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "spamguard/spamguard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sg_config* cfg = [] {
    sg_config* c = nullptr;
    sg_config_new(&c);
    sg_config_set_str(c, SG_CFG_DATABASE, "none");
    sg_config_set_int(c, SG_CFG_STRICT_RULES, 0);  // lenient: drops what is broken, keeps going
    return c;
  }();
  if (size < 2) return 0;
  // The first byte scales the graph: up to 20,000 metas.
  const size_t n = 1 + (size_t(data[0]) * 80);
  std::string cf = "body A /a/\nbody B /b/\n";
  for (size_t i = 0; i < n; ++i) {
    uint8_t b = data[1 + i % (size - 1)];
    std::string self = "M" + std::to_string(i);
    std::string next = "M" + std::to_string(i + 1);
    std::string other = "M" + std::to_string((i * 7 + b) % (n + 3));  // may be unknown or earlier (a cycle)
    switch (b & 7) {
      case 0: cf += "meta " + self + " " + next + "\n"; break;
      case 1: cf += "meta " + self + " " + next + " && A\n"; break;
      case 2: cf += "meta " + self + " (" + next + " || " + other + ")\n"; break;
      case 3: cf += "meta " + self + " !" + next + "\n"; break;
      case 4: cf += "meta " + self + " (" + next + " + B + " + other + ") >= 2\n"; break;
      case 5: cf += "meta " + self + " A\n"; break;
      case 6: cf += "meta " + self + " " + other + "\n"; break;
      default: cf += "meta " + self + " NOPE" + std::to_string(b) + " || " + next + "\n"; break;
    }
  }
  sg_engine* e = nullptr;
  if (sg_engine_open_string(&e, cf.data(), cf.size(), "meta.cf", cfg) == SG_OK) ScoreBody(e, "a b", 3);
  sg_engine_close(e);
  return 0;
}
