// The block list written for a firewall or a web server: every address
// entry active at one moment (imported lists, the admin's entries and the
// rate-limit bans), as disjoint ranges, each with the time it still has,
// in the syntax a tool loads in one step:
//
//   plain     one address or CIDR block per line
//   nft       an `nft -f` script: table inet NAME with interval sets
//             block4 and block6 (with timeouts) and a chain hooked into
//             input just before the usual filter (as fail2ban does) that
//             drops the sets' addresses (to the given TCP ports, or all
//             traffic), flushed and refilled in one transaction
//   ipset     an `ipset restore` script: hash:net sets NAME4 and NAME6,
//             refilled aside and swapped in
//   iptables  an `iptables-restore --noflush` (family 4) or
//             `ip6tables-restore --noflush` (family 6) table: chain NAME,
//             flushed and refilled, dropping each block
//   htaccess  Apache 2.4 `Require not ip` lines, for hosting without root,
//             between "# BEGIN spamguard" and "# END spamguard" lines
//
// Entries nest (a /24 and an address in it) but firewall sets refuse
// overlapping intervals, so they are merged first: an address is in the
// output for as long as the longest-lived entry that holds it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lists/ip_range.h"
#include "util/status.h"

namespace spamguard::lists {

enum class ExportFormat { kPlain = 1, kNft = 2, kIpset = 3, kIptables = 4, kHtaccess = 5 };

struct ExportOptions {
  ExportFormat format = ExportFormat::kPlain;
  std::string name = "spamguard";  // table (nft), set prefix (ipset), chain (iptables)
  int family = 0;                  // 0: both; 4 or 6 (iptables needs one)
  std::string ports = "80,443";    // nft: TCP ports the chain closes to listed addresses; "": all traffic
  int64_t now = 0;                 // unix seconds: the moment exported
};

// Checks the options (a name of 1-24 letters, digits, '-' or '_'; a family
// for iptables; ports: up to 16 numbers 1-65535 separated by commas).
Status CheckExportOptions(const ExportOptions& opts);

class Exporter {
 public:
  // write: called with the output in pieces; a false return stops the export.
  Exporter(const ExportOptions& opts, std::function<bool(std::string_view)> write);
  ~Exporter();
  // Entries of one family at a time, IPv4 first, each family sorted by
  // (lo ascending, prefix length ascending); expires 0: never.
  Status Add(const IpRange& range, int64_t expires);
  // Writes what remains; the counts are those written.
  Status Finish();
  int64_t ranges4() const { return count_[0]; }
  int64_t ranges6() const { return count_[1]; }

 private:
  using U128 = unsigned __int128;
  struct Open {
    U128 hi;
    int64_t eff;  // the latest expiry over the block and those holding it (INT64_MAX: never)
  };
  void Close();
  void Emit(U128 lo, U128 hi, int64_t eff);
  void Flush();  // writes the pending merged segment
  void Segment(U128 lo, U128 hi, int64_t eff);  // one disjoint range, formatted
  void Element(const std::string& what, int64_t eff);
  void AdvanceTo(int fam);
  void StartFamily(int fam);
  void EndFamily();
  Status Put(std::string_view s);

  ExportOptions opts_;
  std::function<bool(std::string_view)> write_;
  std::string buf_;
  bool failed_ = false;
  int fam_ = 0;  // family being added; 0 before the first
  std::vector<Open> stack_;
  U128 cursor_ = 0;
  bool done_ = false;  // the cursor passed the family's last address
  bool pending_ = false;
  U128 pend_lo_ = 0, pend_hi_ = 0;
  int64_t pend_eff_ = 0;
  int64_t count_[2] = {0, 0};
  size_t in_line_ = 0;  // elements on the current statement/line
};

}  // namespace spamguard::lists
