// Detects Perl regex constructs that RE2 cannot run, so that a rule copied
// from SpamAssassin gets a clear reason instead of a bare syntax error.
#pragma once

#include <string>
#include <string_view>

namespace spamguard::rules {

// Returns "" when the pattern has none, else a phrase naming the construct,
// e.g. "backreference \1".
std::string FindPerlOnlyConstruct(std::string_view pattern);

}  // namespace spamguard::rules
