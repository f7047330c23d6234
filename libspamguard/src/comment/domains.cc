#include "comment/domains.h"

#include <libpsl.h>

namespace spamguard::comment {

namespace {

// Chosen once per process: the list built into libpsl (no I/O) unless the
// system's publicsuffix package holds a newer one, then that one in its
// compact form (about 1 ms; parsing the text form would take 5). Read-only
// afterwards, so shared by every thread.
const psl_ctx_t* List() {
  static const psl_ctx_t* ctx = []() -> const psl_ctx_t* {
    const psl_ctx_t* builtin = psl_builtin();
    if (builtin && !psl_builtin_outdated()) return builtin;
    if (const psl_ctx_t* c = psl_load_file("/usr/share/publicsuffix/public_suffix_list.dafsa")) return c;
    if (const psl_ctx_t* c = psl_latest(nullptr)) return c;
    return builtin;
  }();
  return ctx;
}

}  // namespace

bool IsPublicSuffix(std::string_view name) {
  const psl_ctx_t* ctx = List();
  if (ctx == nullptr || name.empty() || name.size() > 253) return false;
  std::string n(name);
  return psl_is_public_suffix2(ctx, n.c_str(), PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE) != 0;
}

}  // namespace spamguard::comment
