// Domain names against the Public Suffix List (libpsl, with the list the
// system's publicsuffix package keeps current): which names are public
// suffixes ("com", "co.uk", "icu").
#pragma once

#include <string>
#include <string_view>

namespace spamguard::comment {

// True when `name` (lower-case, no trailing dot) is a public suffix under
// ICANN's rules: "com", "click", "co.uk"; not "example" or "exe".
bool IsPublicSuffix(std::string_view name);

}  // namespace spamguard::comment
