#include "lists/export.h"

#include <arpa/inet.h>

#include <algorithm>
#include <climits>
#include <ctime>

namespace spamguard::lists {
namespace {

constexpr size_t kFlushBytes = 64 * 1024;
constexpr int64_t kNever = INT64_MAX;
constexpr size_t kPerStatement = 500;      // nft elements per `add element`
constexpr int64_t kIpsetMaxTimeout = 2147483;  // the largest timeout ipset takes, seconds

using U128 = unsigned __int128;

int Width(int fam) { return fam == 4 ? 32 : 128; }
U128 MaxOf(int fam) { return fam == 4 ? U128(0xffffffffu) : ~U128(0); }
// The host part of a /plen block: its size less one.
U128 HostMask(int fam, int plen) {
  const int w = Width(fam);
  return plen <= 0 ? MaxOf(fam) : plen >= w ? U128(0) : (U128(1) << (w - plen)) - 1;
}

std::string AddrText(int fam, U128 v) {
  uint8_t b[16];
  int n = fam == 4 ? 4 : 16;
  for (int i = n - 1; i >= 0; --i, v >>= 8) b[i] = uint8_t(v);
  char text[INET6_ADDRSTRLEN];
  inet_ntop(fam == 4 ? AF_INET : AF_INET6, b, text, sizeof text);
  return text;
}

// The largest CIDR block that starts at lo and ends at or before hi, as a
// prefix length.
int BlockAt(int fam, U128 lo, U128 hi) {
  const int w = Width(fam);
  int k = 0;  // block of 2^k addresses
  U128 span = hi - lo;  // addresses after lo
  while (k < w && !((lo >> k) & 1)) {
    // 2^(k+1) - 1 <= span?
    if (k + 1 < 128 && ((U128(1) << (k + 1)) - 1) > span) break;
    ++k;
  }
  return w - k;
}

std::string IsoTime(int64_t t) {
  time_t tt = time_t(t);
  struct tm tm;
  char buf[32];
  if (gmtime_r(&tt, &tm) == nullptr || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return "?";
  return buf;
}

}  // namespace

Status CheckExportOptions(const ExportOptions& opts) {
  if (opts.name.empty() || opts.name.size() > 24 ||
      !std::all_of(opts.name.begin(), opts.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      }))
    return Status::InvalidArgument("export: the name must be 1 to 24 letters, digits, '-' or '_'");
  int n = 0;
  for (size_t i = 0; i < opts.ports.size();) {
    size_t end = opts.ports.find(',', i);
    if (end == std::string::npos) end = opts.ports.size();
    std::string_view p(opts.ports.data() + i, end - i);
    long v = 0;
    bool digits = !p.empty() && p.size() <= 5 &&
                  std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) v = std::stol(std::string(p));
    if (!digits || v < 1 || v > 65535 || ++n > 16)
      return Status::InvalidArgument("export: ports must be up to 16 port numbers separated by commas, or empty");
    i = end + 1;
    if (end == opts.ports.size() - 1) return Status::InvalidArgument("export: ports end with a comma");
  }
  if (opts.family != 0 && opts.family != 4 && opts.family != 6)
    return Status::InvalidArgument("export: family must be 4, 6 or 0 (both)");
  if (opts.format == ExportFormat::kIptables && opts.family == 0)
    return Status::InvalidArgument("export: iptables needs one family (4 for iptables-restore, 6 for ip6tables-restore)");
  if (int(opts.format) < int(ExportFormat::kPlain) || int(opts.format) > int(ExportFormat::kHtaccess))
    return Status::InvalidArgument("export: unknown format " + std::to_string(int(opts.format)));
  return Status::OK();
}

Exporter::Exporter(const ExportOptions& opts, std::function<bool(std::string_view)> write)
    : opts_(opts), write_(std::move(write)) {
  const std::string at = IsoTime(opts_.now);
  const std::string& n = opts_.name;
  switch (opts_.format) {
    case ExportFormat::kPlain: break;
    case ExportFormat::kNft: {
      buf_ += "# spamguard block list as of " + at + "; load with: nft -f FILE\n";
      buf_ += "table inet " + n + " {\n";
      for (int fam : {4, 6}) {
        if (opts_.family != 0 && opts_.family != fam) continue;
        buf_ += "\tset block" + std::to_string(fam) + " {\n\t\ttype ipv" + std::to_string(fam) +
                "_addr\n\t\tflags interval, timeout\n\t}\n";
      }
      // Before the usual filter chain (priority filter), so that nothing
      // there lets a listed address through first.
      buf_ += "\tchain input {\n\t\ttype filter hook input priority filter - 1; policy accept;\n\t}\n}\n";
      buf_ += "flush chain inet " + n + " input\n";
      std::string match;
      if (!opts_.ports.empty()) {
        std::string ports = opts_.ports;
        for (size_t i = 0; (i = ports.find(',', i)) != std::string::npos; i += 2) ports.replace(i, 1, ", ");
        match = "tcp dport { " + ports + " } ";
      }
      for (int fam : {4, 6})
        if (opts_.family == 0 || opts_.family == fam)
          buf_ += "flush set inet " + n + " block" + std::to_string(fam) + "\nadd rule inet " + n + " input " + match +
                  (fam == 4 ? "ip" : "ip6") + " saddr @block" + std::to_string(fam) + " counter drop\n";
      break;
    }
    case ExportFormat::kIpset:
      buf_ += "# spamguard block list as of " + at + "; load with: ipset restore -file FILE\n";
      break;
    case ExportFormat::kIptables:
      buf_ += "# spamguard block list as of " + at + "; load with: " +
              (opts_.family == 4 ? "iptables" : "ip6tables") + "-restore --noflush FILE\n";
      buf_ += "*filter\n:" + n + " - [0:0]\n-F " + n + "\n";
      break;
    case ExportFormat::kHtaccess:
      buf_ += "# BEGIN spamguard\n# block list as of " + at + " (entries that expire stay until the next export)\n";
      buf_ += "<RequireAll>\n    Require all granted\n";
      break;
  }
}

Exporter::~Exporter() = default;

Status Exporter::Put(std::string_view s) {
  buf_.append(s);
  if (buf_.size() >= kFlushBytes && !failed_) {
    failed_ = !write_(buf_);
    buf_.clear();
  }
  return failed_ ? Status::IOError("export: the output could not be written") : Status::OK();
}

void Exporter::StartFamily(int fam) {
  fam_ = fam;
  stack_.clear();
  cursor_ = 0;
  done_ = false;
  pending_ = false;
  in_line_ = 0;
  if (opts_.format == ExportFormat::kIpset) {
    const std::string set = opts_.name + std::to_string(fam);
    const std::string spec = std::string(" hash:net family ") + (fam == 4 ? "inet" : "inet6") +
                             " hashsize 1024 maxelem 16777216 timeout 0 -exist\n";
    Put("create " + set + spec + "create " + set + "-new" + spec + "flush " + set + "-new\n");
  }
}

void Exporter::EndFamily() {
  while (!stack_.empty()) Close();
  Flush();
  if (opts_.format == ExportFormat::kNft && in_line_ > 0) Put(" }\n");
  if (opts_.format == ExportFormat::kHtaccess && in_line_ > 0) Put("\n");
  in_line_ = 0;
  if (opts_.format == ExportFormat::kIpset) {
    const std::string set = opts_.name + std::to_string(fam_);
    Put("swap " + set + "-new " + set + "\ndestroy " + set + "-new\n");
  }
}

// Moves on to family `fam`, starting the families before it that had no
// entries (so that their sets are emptied too).
void Exporter::AdvanceTo(int fam) {
  for (int f : {4, 6}) {
    if (f > fam || f <= fam_ || (opts_.family != 0 && opts_.family != f)) continue;
    if (fam_ != 0) EndFamily();
    StartFamily(f);
  }
}

Status Exporter::Add(const IpRange& range, int64_t expires) {
  if (range.fam != 4 && range.fam != 6) return Status::OK();
  if (opts_.family != 0 && range.fam != opts_.family) return Status::OK();
  if (range.fam < fam_) return Status::InvalidArgument("export: IPv4 entries must come before IPv6 ones");
  if (range.fam != fam_) AdvanceTo(range.fam);
  const int w = Width(range.fam);
  U128 lo = 0;
  for (size_t i = 0; i < range.Width(); ++i) lo = lo << 8 | range.lo[i];
  const int plen = std::clamp(range.plen, 0, w);
  const U128 host = HostMask(range.fam, plen);
  lo &= ~host;
  const U128 hi = lo | host;
  const int64_t exp = expires == 0 ? kNever : expires;
  if (exp != kNever && exp <= opts_.now) return Status::OK();  // over by now
  if (done_) return Status::OK();  // (sorted input: only blocks already written can follow)
  while (!stack_.empty() && stack_.back().hi < lo) Close();
  int64_t eff = exp;
  if (!stack_.empty()) {
    // Blocks nest: the one on top holds this one.
    if (cursor_ < lo) Emit(cursor_, lo - 1, stack_.back().eff);
    eff = std::max(eff, stack_.back().eff);
  }
  if (stack_.empty() || cursor_ < lo) cursor_ = lo;
  stack_.push_back(Open{hi, eff});
  return failed_ ? Status::IOError("export: the output could not be written") : Status::OK();
}

void Exporter::Close() {
  Open top = stack_.back();
  stack_.pop_back();
  if (!done_ && cursor_ <= top.hi) {
    Emit(cursor_, top.hi, top.eff);
    if (top.hi == MaxOf(fam_)) done_ = true;
    else cursor_ = top.hi + 1;
  }
}

void Exporter::Emit(U128 lo, U128 hi, int64_t eff) {
  if (pending_ && pend_hi_ + 1 == lo && pend_eff_ == eff) {
    pend_hi_ = hi;
    return;
  }
  Flush();
  pending_ = true;
  pend_lo_ = lo;
  pend_hi_ = hi;
  pend_eff_ = eff;
}

void Exporter::Flush() {
  if (!pending_) return;
  pending_ = false;
  Segment(pend_lo_, pend_hi_, pend_eff_);
}

void Exporter::Segment(U128 lo, U128 hi, int64_t eff) {
  const int w = Width(fam_);
  if (opts_.format == ExportFormat::kNft) {
    int plen = BlockAt(fam_, lo, hi);
    std::string what = AddrText(fam_, lo);
    if (lo + HostMask(fam_, plen) == hi) {
      if (plen != w) what += "/" + std::to_string(plen);
    } else {
      what += "-" + AddrText(fam_, hi);
    }
    Element(what, eff);
    return;
  }
  // The others take CIDR blocks only.
  while (true) {
    int plen = BlockAt(fam_, lo, hi);
    if (plen == 0 && opts_.format == ExportFormat::kIpset) plen = 1;  // (hash:net takes /1 at most)
    U128 last = lo + HostMask(fam_, plen);
    Element(AddrText(fam_, lo) + (plen == w ? "" : "/" + std::to_string(plen)), eff);
    if (last >= hi) break;
    lo = last + 1;
  }
}

void Exporter::Element(const std::string& what, int64_t eff) {
  ++count_[fam_ == 4 ? 0 : 1];
  const int64_t left = eff == kNever ? 0 : std::max<int64_t>(1, eff - opts_.now);
  switch (opts_.format) {
    case ExportFormat::kPlain: Put(what + "\n"); break;
    case ExportFormat::kNft: {
      std::string e = what + (left > 0 ? " timeout " + std::to_string(left) + "s" : "");
      if (in_line_ == 0) Put("add element inet " + opts_.name + " block" + std::to_string(fam_) + " { " + e);
      else Put(", " + e);
      if (++in_line_ == kPerStatement) {
        Put(" }\n");
        in_line_ = 0;
      }
      break;
    }
    case ExportFormat::kIpset:
      Put("add " + opts_.name + std::to_string(fam_) + "-new " + what +
          (left > 0 ? " timeout " + std::to_string(std::min(left, kIpsetMaxTimeout)) : "") + "\n");
      break;
    case ExportFormat::kIptables: Put("-A " + opts_.name + " -s " + what + " -j DROP\n"); break;
    case ExportFormat::kHtaccess:
      if (in_line_ == 0) Put("    Require not ip " + what);
      else Put(" " + what);
      if (++in_line_ == 50) {
        Put("\n");
        in_line_ = 0;
      }
      break;
  }
}

Status Exporter::Finish() {
  AdvanceTo(6);
  if (fam_ != 0) EndFamily();
  if (opts_.format == ExportFormat::kIptables) Put("COMMIT\n");
  if (opts_.format == ExportFormat::kHtaccess) Put("</RequireAll>\n# END spamguard\n");
  if (!failed_ && !buf_.empty()) failed_ = !write_(buf_);
  buf_.clear();
  return failed_ ? Status::IOError("export: the output could not be written") : Status::OK();
}

}  // namespace spamguard::lists
