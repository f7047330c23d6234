// Where an installation keeps its rule files, found from where the library
// itself is: a --prefix install, or one moved after installing, still finds
// its own files.
#pragma once

#include <string>

namespace spamguard::engine {

// The rule file to use when the caller names none, first that exists of:
//   the library's build tree: the source tree's data/spamguard.cf;
//   SYSCONFDIR/spamguard/spamguard.cf  (the admin's file, which includes the
//                                       shipped rules and holds local changes)
//   DATADIR/spamguard/spamguard.cf     (the shipped rules)
// with SYSCONFDIR and DATADIR taken relative to the library's folder first,
// then as configured at build time. When none exists, the shipped path
// relative to the library (so the caller's error names where it looked).
std::string DefaultRulesPath();

}  // namespace spamguard::engine
