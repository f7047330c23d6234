// Reading the list formats admins have: one IP or CIDR per line, Spamhaus
// DROP ("CIDR ; SBLnnn") and its JSON lines ({"cidr":..,"sblid":..}), Stop
// Forum Spam listed_ip files (bare, or "ip","count","lastseen" CSV), FireHOL
// .netset; '#' and ';' comments. One reader handles them all, line by line.
#pragma once

#include <string>
#include <string_view>

#include "lists/ip_range.h"

namespace spamguard::lists {

enum class LineKind { kEntry, kSkip, kMalformed };

struct ListLine {
  IpRange range;
  std::string reason;  // e.g. the SBL id; empty when the line has none
  std::string error;   // for kMalformed
};

LineKind ParseListLine(std::string_view line, ListLine* out);

// Normalizes an e-mail address or a domain for the name lists (lower case,
// no surrounding space, no leading "*." or "."). False when it is not one.
bool NormalizeEmail(std::string_view in, std::string* out);
bool NormalizeDomain(std::string_view in, std::string* out);

// The host of a URL, lower-cased ("http://Www.Example.com:80/x" ->
// "www.example.com"); false when there is none.
bool UrlHost(std::string_view url, std::string* out);

}  // namespace spamguard::lists
