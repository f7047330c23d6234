#include "learner/learner.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "comment/domains.h"
#include "util/fnv1a.h"
#include "util/numbers.h"

namespace spamguard::learner {
namespace {

// Robinson's shrinking: a token seen n times is trusted as much as its
// counts say only as n grows past kStrength; clues closer than kMinStrength
// to 0.5 are left out; at most kMaxClues are combined. SpamBayes ships 0.45
// and 0.1; on online replays of small blogs (README) those let many weak,
// correlated clues (function words: "if", "up", "have") add up to 99.9 %
// on ham, and 1.0 and 0.2 did not, at the same recall.
constexpr double kStrength = 1.0;
constexpr double kUnknown = 0.5;
constexpr double kMinStrength = 0.2;
constexpr size_t kMaxClues = 150;
constexpr size_t kMaxWord = 20;  // longer words become a length token

bool WordByte(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

class Collector {
 public:
  explicit Collector(Tokens* out) : out_(out) {}
  bool Full() const { return out_->list.size() >= kMaxTokensPerComment; }
  // Adds prefix + a + (b.empty() ? "" : " " + b) as one token.
  void Add(std::string_view prefix, std::string_view a, std::string_view b = {}) {
    if (Full()) return;
    Token t;
    t.off = uint32_t(out_->text.size());
    out_->text.append(prefix);
    out_->text.append(a);
    if (!b.empty()) {
      out_->text.push_back(' ');
      out_->text.append(b);
    }
    t.len = uint32_t(out_->text.size() - t.off);
    t.hash = HashToken(std::string_view(out_->text).substr(t.off, t.len));
    out_->list.push_back(t);
  }

 private:
  Tokens* out_;
};

// The words of a text, lower-cased, as (offset, length) in *buf; a chunk
// that is part of a web address ("http://…", "www.…") is left to the link
// tokens. A word longer than kMaxWord becomes "long:N".
void Words(std::string_view text, std::string* buf, std::vector<std::pair<uint32_t, uint32_t>>* words) {
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && space(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && !space(text[i])) ++i;
    std::string_view chunk = text.substr(start, i - start);
    if (chunk.find("://") != std::string_view::npos || chunk.substr(0, 4) == "www." || chunk.substr(0, 4) == "WWW.")
      continue;
    size_t w0 = buf->size(), wlen = 0;
    for (size_t k = 0; k <= chunk.size(); ++k) {
      char c = k < chunk.size() ? Lower(chunk[k]) : ' ';
      bool inner_apos = c == '\'' && wlen > 0 && k + 1 < chunk.size() &&
                        WordByte(static_cast<unsigned char>(Lower(chunk[k + 1])));
      if (WordByte(static_cast<unsigned char>(c)) || inner_apos) {
        if (wlen <= kMaxWord) buf->push_back(c);
        ++wlen;
        continue;
      }
      if (wlen > 0) {
        if (wlen > kMaxWord) {
          buf->resize(w0);
          *buf += "long:" + std::to_string(std::min<size_t>(wlen, 60) / 10);
        }
        words->push_back({uint32_t(w0), uint32_t(buf->size() - w0)});
        w0 = buf->size();
        wlen = 0;
      }
    }
  }
}

// scheme://[user@]host[:port]/path -> host and path (lower-cased host).
bool SplitUrl(std::string_view url, std::string* host, std::string_view* path) {
  size_t p = url.find("://");
  if (p == std::string_view::npos) return false;
  std::string_view rest = url.substr(p + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  *path = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority = authority.substr(at + 1);
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) authority = authority.substr(0, colon);
  host->clear();
  for (char c : authority.substr(0, 253)) host->push_back(Lower(c));
  while (!host->empty() && host->back() == '.') host->pop_back();
  return !host->empty();
}

// The registrable domain of a host: its public suffix and one label more.
std::string Registrable(const std::string& host) {
  size_t last = host.rfind('.');
  if (last == std::string::npos || last == 0) return host;
  size_t prev = host.rfind('.', last - 1);
  std::string two = prev == std::string::npos ? host : host.substr(prev + 1);
  if (prev != std::string::npos && comment::IsPublicSuffix(two)) {
    size_t third = host.rfind('.', prev - 1);
    return prev == 0 ? host : third == std::string::npos ? host : host.substr(third + 1);
  }
  return two;
}

void LinkTokens(std::string_view url, const char* host_prefix, Collector* c) {
  std::string host;
  std::string_view path;
  if (!SplitUrl(url, &host, &path)) return;
  c->Add(host_prefix, host);
  std::string reg = Registrable(host);
  if (reg != host) c->Add("domain:", reg);
  std::string piece;
  for (size_t k = 0; k <= path.size() && !c->Full(); ++k) {
    char ch = k < path.size() ? Lower(path[k]) : '/';
    if (ch == '/' || ch == '?' || ch == '=' || ch == '&' || ch == '.' || ch == '_' || ch == '-' || ch == '#' || ch == '+') {
      if (piece.size() >= 3 && piece.size() <= kMaxWord) c->Add("path:", piece);
      piece.clear();
    } else if (piece.size() <= kMaxWord) {
      piece.push_back(ch);
    }
  }
}

// The order of clues by strength (distance from 0.5), ties by hash so that
// the order never depends on how the tokens were found.
bool Stronger(const Tokens& tokens, const Clue& a, const Clue& b) {
  double da = std::fabs(a.prob - 0.5), db = std::fabs(b.prob - 0.5);
  return da != db ? da > db : tokens.list[a.token].hash < tokens.list[b.token].hash;
}

double Chi2Q(double x2, size_t v) {
  double m = x2 / 2.0, sum = std::exp(-m), term = sum;
  for (size_t i = 1; i < v / 2; ++i) {
    term *= m / double(i);
    sum += term;
  }
  return std::min(sum, 1.0);
}

}  // namespace

uint64_t HashToken(std::string_view text) {
  Fnv1a h;
  h.Mix(text.data(), text.size());
  return h.h;
}

void Tokenize(const comment::Normalized& n, Tokens* out) {
  out->Clear();
  Collector c(out);
  // Scratch space kept by the thread: tokenizing allocates nothing once warm.
  thread_local std::string buf;
  thread_local std::vector<std::pair<uint32_t, uint32_t>> words;
  buf.clear();
  words.clear();
  Words(n.body, &buf, &words);
  auto word = [&](size_t i) { return std::string_view(buf).substr(words[i].first, words[i].second); };
  for (size_t i = 0; i < words.size() && !c.Full(); ++i) {
    if (words[i].second >= 2) c.Add({}, word(i));
    if (i + 1 < words.size()) c.Add({}, word(i), word(i + 1));
  }
  for (size_t i = 0; i < n.body_links && i < n.links.size() && !c.Full(); ++i) LinkTokens(n.links[i], "host:", &c);
  if (!n.url.empty()) LinkTokens(n.url, "site:", &c);
  buf.clear();
  words.clear();
  Words(n.author, &buf, &words);
  for (size_t i = 0; i < words.size() && i < 20; ++i) c.Add("author:", word(i));
  size_t at = n.email.rfind('@');
  if (at != std::string::npos && at + 1 < n.email.size()) {
    std::string d;
    for (char ch : std::string_view(n.email).substr(at + 1, 253)) d.push_back(Lower(ch));
    c.Add("email:", d);
  }
  // Shape.
  c.Add("shape:links=", std::to_string(std::min<size_t>(n.body_links, 3)));
  size_t len = n.body.size();
  c.Add("shape:length=", len < 20 ? "tiny" : len < 80 ? "short" : len < 300 ? "medium" : "long");
  size_t upper = 0, letters = 0;
  for (unsigned char ch : n.body) {
    if (ch >= 'A' && ch <= 'Z') ++upper, ++letters;
    else if (ch >= 'a' && ch <= 'z') ++letters;
  }
  if (letters >= 10) c.Add("shape:caps=", std::to_string(4 * upper / letters));
  if (n.body.find('!') != std::string::npos) c.Add("shape:bang", {});
  if (n.kind != comment::Kind::kComment)
    c.Add(n.kind == comment::Kind::kTrackback ? "shape:trackback" : "shape:pingback", {});
  // Once per comment.
  auto& l = out->list;
  std::sort(l.begin(), l.end(), [](const Token& a, const Token& b) { return a.hash < b.hash; });
  l.erase(std::unique(l.begin(), l.end(), [](const Token& a, const Token& b) { return a.hash == b.hash; }), l.end());
}

void Classify(const Tokens& tokens, const std::vector<TokenCounts>& counts, const Totals& totals, Result* out) {
  out->prob = 0.5;
  out->clues.clear();
  if (totals.spam <= 0 || totals.ham <= 0) return;
  for (size_t i = 0; i < tokens.list.size() && i < counts.size(); ++i) {
    double s = double(std::max<int64_t>(0, counts[i].spam)), h = double(std::max<int64_t>(0, counts[i].ham));
    double n = s + h;
    if (n <= 0) continue;
    double sr = std::min(1.0, s / double(totals.spam)), hr = std::min(1.0, h / double(totals.ham));
    if (sr + hr <= 0) continue;
    double p = sr / (sr + hr);
    double f = (kStrength * kUnknown + n * p) / (kStrength + n);
    if (std::fabs(f - 0.5) >= kMinStrength) out->clues.push_back({uint32_t(i), f});
  }
  auto stronger = [&](const Clue& a, const Clue& b) { return Stronger(tokens, a, b); };
  if (out->clues.size() > kMaxClues) {
    std::nth_element(out->clues.begin(), out->clues.begin() + kMaxClues, out->clues.end(), stronger);
    out->clues.resize(kMaxClues);
  }
  if (out->clues.empty()) return;
  double s_log = 0, h_log = 0;
  for (const auto& c : out->clues) {
    double f = std::min(std::max(c.prob, 1e-6), 1 - 1e-6);
    s_log += std::log(1 - f);
    h_log += std::log(f);
  }
  size_t v = 2 * out->clues.size();
  double s = 1 - Chi2Q(-2 * s_log, v), h = 1 - Chi2Q(-2 * h_log, v);
  double prob = (s - h + 1) / 2;
  out->prob = std::isfinite(prob) ? std::min(1.0, std::max(0.0, prob)) : 0.5;
}

std::string Explain(const Tokens& tokens, const Result& r, size_t max) {
  const bool spammy = r.prob >= 0.5;
  std::vector<Clue> way;
  for (const auto& c : r.clues)
    if ((c.prob >= 0.5) == spammy) way.push_back(c);
  auto stronger = [&](const Clue& a, const Clue& b) { return Stronger(tokens, a, b); };
  size_t shown = std::min(max, way.size());
  std::partial_sort(way.begin(), way.begin() + long(shown), way.end(), stronger);
  std::string out;
  for (size_t i = 0; i < shown; ++i) {
    std::string_view text = tokens.Text(tokens.list[way[i].token]).substr(0, 60);
    out += i ? ", '" : "'";
    out.append(text);
    out += "' " + FormatFixed(way[i].prob, 2, false);
  }
  return out;
}

void CountTable::Reserve(size_t n) {
  size_t cap = 16;
  while (cap * 3 < n * 4 + 4) cap *= 2;
  slots_.assign(cap, Slot());
  size_ = 0;
}

void CountTable::Put(uint64_t hash, const TokenCounts& c) {
  if (hash == 0) return;
  if (slots_.empty() || (size_ + 1) * 4 > slots_.size() * 3) {
    std::vector<Slot> old = std::move(slots_);
    Reserve(std::max<size_t>(size_ + 1, old.size()));
    for (const auto& s : old)
      if (s.hash != 0) Put(s.hash, {int64_t(s.spam), int64_t(s.ham)});
  }
  auto clamp = [](int64_t v) { return uint32_t(std::min<int64_t>(std::max<int64_t>(v, 0), UINT32_MAX)); };
  size_t mask = slots_.size() - 1;
  for (size_t i = size_t(hash) & mask;; i = (i + 1) & mask) {
    if (slots_[i].hash == 0) ++size_;
    if (slots_[i].hash == 0 || slots_[i].hash == hash) {
      slots_[i] = {hash, clamp(c.spam), clamp(c.ham)};
      return;
    }
  }
}

TokenCounts CountTable::Get(uint64_t hash) const {
  if (slots_.empty() || hash == 0) return TokenCounts();
  size_t mask = slots_.size() - 1;
  for (size_t i = size_t(hash) & mask;; i = (i + 1) & mask) {
    if (slots_[i].hash == hash) return {int64_t(slots_[i].spam), int64_t(slots_[i].ham)};
    if (slots_[i].hash == 0) return TokenCounts();
  }
}

}  // namespace spamguard::learner
