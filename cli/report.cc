#include "report.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <cmath>
#include <nlohmann/json.hpp>

#include "output.h"

namespace sgcli {

Metrics ComputeMetrics(const Tally& t) {
  auto ratio = [](size_t a, size_t b) { return b ? double(a) / double(b) : 0.0; };
  Metrics m;
  m.precision = ratio(t.tp, t.tp + t.fp);
  m.recall = ratio(t.tp, t.tp + t.fn);
  m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0;
  m.fpr = ratio(t.fp, t.fp + t.tn);
  return m;
}

namespace {

// HTML-escaped text from a dump. Bidirectional controls (overrides,
// embeddings, isolates, marks) become U+FFFD: a comment must not reorder
// the report's text around it.
std::string Esc(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    uint32_t cp = 0;
    size_t n = u[i] >= 0x80 ? Utf8At(u, s.size(), i, &cp) : 0;
    if (n > 0 && IsBidiControl(cp)) {
      o += "\xEF\xBF\xBD";
      i += n - 1;
      continue;
    }
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o.push_back(c);
    }
  }
  return o;
}

std::string Num(double v, const char* fmt) {
  if (!std::isfinite(v)) v = 0;
  char buf[400];  // any finite double in %f
  snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2327;margin:0 auto;max-width:1100px;padding:1.5em}
h1{font-size:1.6em;margin:.2em 0} h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin-top:.7em} th,td{padding:.25em .6em;text-align:left;vertical-align:top} th{background:#f3f4f6}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.meta td:first-child{color:#555}
.cards{display:flex;flex-wrap:wrap;gap:.8em}
.card{border:1px solid #ddd;border-radius:6px;padding:.5em .9em;min-width:7em}
.card b{display:block;font-size:1.4em}
.bar{height:.9em;display:inline-block;vertical-align:middle}
.b-spam{background:#c0392b} .b-ham{background:#27ae60} .b-none{background:#7f8c8d}
.legend span{margin-right:1.2em}
.example{border:1px solid #ddd;border-radius:6px;padding:.6em .9em;margin:.8em 0}
.example blockquote{margin:.4em 0;padding:.4em .8em;background:#f8f8f8;border-left:3px solid #ccc;white-space:pre-wrap;word-break:break-word}
.pos{color:#c0392b} .neg{color:#27ae60} .muted{color:#777}
svg text{font-size:11px;fill:#444}
)";

std::string Card(const std::string& label, const std::string& value, const std::string& id) {
  return "<div class=\"card\" id=\"" + id + "\"><b>" + Esc(value) + "</b>" + Esc(label) + "</div>";
}

// Bars per score bin, one colour per label, stacked; dashed lines at the
// thresholds.
std::string Histogram(const Tally& t, double moderate, double spam, double discard) {
  const int W = 1000, H = 260, left = 50, bottom = 30, top = 10;
  size_t peak = 1;
  for (int b = 0; b < Tally::kBins; ++b) peak = std::max(peak, t.hist[0][b] + t.hist[1][b] + t.hist[2][b]);
  double bw = double(W - left - 10) / Tally::kBins;
  auto x_of = [&](double score) {
    double pos = std::clamp(score - Tally::kLowest, 0.0, double(Tally::kBins));
    return left + pos * bw;
  };
  std::string s = "<svg id=\"histogram\" viewBox=\"0 0 " + std::to_string(W) + " " + std::to_string(H) +
                  "\" width=\"100%\" role=\"img\" aria-label=\"score histogram\">";
  s += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + std::to_string(H - bottom) + "\" x2=\"" +
       std::to_string(W - 10) + "\" y2=\"" + std::to_string(H - bottom) + "\" stroke=\"#999\"/>";
  s += "<text x=\"4\" y=\"" + std::to_string(top + 10) + "\">" + std::to_string(peak) + "</text>";
  s += "<text x=\"4\" y=\"" + std::to_string(H - bottom) + "\">0</text>";
  static const char* kLabel[3] = {"spam", "ham", "none"};
  static const char* kName[3] = {"labeled spam", "labeled ham", "unlabeled"};
  for (int b = 0; b < Tally::kBins; ++b) {
    double y = H - bottom;
    for (int l = 0; l < 3; ++l) {
      size_t n = t.hist[l][b];
      if (n == 0) continue;
      double h = std::max(1.0, double(n) / double(peak) * (H - bottom - top));
      y -= h;
      int lo = Tally::kLowest + b;
      std::string range = b == 0 ? "below " + std::to_string(lo + 1)
                          : b == Tally::kBins - 1 ? std::to_string(lo) + " and above"
                                                  : std::to_string(lo) + " to " + std::to_string(lo + 1);
      s += "<rect class=\"bar-" + std::string(kLabel[l]) + "\" data-bin=\"" + std::to_string(lo) + "\" data-label=\"" +
           kLabel[l] + "\" data-count=\"" + std::to_string(n) + "\" x=\"" + Num(left + b * bw + 1, "%.1f") +
           "\" y=\"" + Num(y, "%.1f") + "\" width=\"" + Num(bw - 2, "%.1f") + "\" height=\"" + Num(h, "%.1f") +
           "\" fill=\"" + (l == 0 ? "#c0392b" : l == 1 ? "#27ae60" : "#7f8c8d") + "\"><title>" + kName[l] + ", score " +
           range + ": " + std::to_string(n) + "</title></rect>";
    }
    if ((Tally::kLowest + b) % 2 == 0)
      s += "<text x=\"" + Num(left + b * bw, "%.1f") + "\" y=\"" + std::to_string(H - bottom + 15) + "\">" +
           std::to_string(Tally::kLowest + b) + "</text>";
  }
  struct { double at; const char* name; const char* colour; } lines[] = {
      {moderate, "moderate", "#e67e22"}, {spam, "spam", "#c0392b"}, {discard, "discard", "#6c3483"}};
  int row = 0;
  for (const auto& l : lines) {
    double x = x_of(l.at);
    int label_y = top + 10 + 13 * row++;  // staggered, so that close thresholds stay readable
    s += "<line class=\"threshold\" data-threshold=\"" + std::string(l.name) + "\" x1=\"" + Num(x, "%.1f") + "\" y1=\"" +
         std::to_string(top) + "\" x2=\"" + Num(x, "%.1f") + "\" y2=\"" + std::to_string(H - bottom) +
         "\" stroke=\"" + l.colour + "\" stroke-dasharray=\"4 3\"/>";
    s += "<text x=\"" + Num(x + 3, "%.1f") + "\" y=\"" + std::to_string(label_y) + "\">" + l.name + " " + Num(l.at, "%g") +
         "</text>";
  }
  s += "<text x=\"" + std::to_string(W / 2) + "\" y=\"" + std::to_string(H - 2) + "\">score</text></svg>";
  return s;
}

std::string RuleBars(const Tally& t) {
  std::vector<std::pair<std::string, const RuleTally*>> v;
  for (const auto& [name, r] : t.rules) v.emplace_back(name, &r);
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) {
    return a.second->hits != b.second->hits ? a.second->hits > b.second->hits : a.first < b.first;
  });
  if (v.size() > 60) v.resize(60);
  size_t peak = v.empty() ? 1 : std::max<size_t>(1, v.front().second->hits);
  std::string s =
      "<table id=\"rules-table\"><thead><tr><th>rule</th><th class=\"n\">points</th><th>field</th><th class=\"n\">hits</th>"
      "<th class=\"n\">on spam</th><th class=\"n\">on ham</th><th>hits by label</th><th>what it means</th></tr></thead><tbody>";
  for (const auto& [name, r] : v) {
    size_t other = r->hits - r->spam - r->ham;
    auto width = [&](size_t n) { return Num(300.0 * double(n) / double(peak), "%.1f"); };
    s += "<tr class=\"rule\" data-rule=\"" + Esc(name) + "\" data-hits=\"" + std::to_string(r->hits) + "\"><td><code>" +
         Esc(name) + "</code></td><td class=\"n\">" + Num(r->points, "%+.2f") + "</td><td>" + Esc(r->field) +
         "</td><td class=\"n\">" + std::to_string(r->hits) + "</td><td class=\"n\">" + std::to_string(r->spam) +
         "</td><td class=\"n\">" + std::to_string(r->ham) + "</td><td style=\"white-space:nowrap\">";
    if (r->spam) s += "<span class=\"bar b-spam\" style=\"width:" + width(r->spam) + "px\"></span>";
    if (r->ham) s += "<span class=\"bar b-ham\" style=\"width:" + width(r->ham) + "px\"></span>";
    if (other) s += "<span class=\"bar b-none\" style=\"width:" + width(other) + "px\"></span>";
    s += "</td><td>" + Esc(r->description) + "</td></tr>";
  }
  return s + "</tbody></table>";
}

std::string Examples(const std::vector<Example>& ex, const char* id, const char* none) {
  std::string s = "<div id=\"" + std::string(id) + "\">";
  if (ex.empty()) return s + "<p class=\"muted\">" + none + "</p></div>";
  for (const auto& e : ex) {
    s += "<div class=\"example\" data-id=\"" + Esc(e.id) + "\" data-score=\"" + Num(e.score, "%.3f") + "\"><b>" +
         Esc(e.id.empty() ? "(no id)" : e.id) + "</b> — labeled " + Esc(e.label) + ", verdict <b>" + Esc(e.action) +
         "</b>, score " + Fmt(e.score) + "<blockquote>" + Esc(e.excerpt) + "</blockquote>";
    nlohmann::json v = nlohmann::json::parse(e.verdict_json, nullptr, false);
    if (v.is_object() && v.contains("hits") && v["hits"].is_array() && !v["hits"].empty()) {
      s += "<table class=\"hits\"><thead><tr><th class=\"n\">points</th><th>rule</th><th>field</th><th>why</th>"
           "<th>matched</th></tr></thead><tbody>";
      for (const auto& h : v["hits"]) {
        double pts = h.value("points", 0.0);
        s += "<tr><td class=\"n " + std::string(pts > 0 ? "pos" : pts < 0 ? "neg" : "") + "\">" + Num(pts, "%+.2f") +
             "</td><td><code>" + Esc(h.value("rule", "")) + "</code></td><td>" + Esc(h.value("field", "")) +
             "</td><td>" + Esc(h.value("description", "")) + "</td><td><code>" + Esc(h.value("match", "")) +
             "</code></td></tr>";
      }
      s += "</tbody></table>";
    } else {
      s += "<p class=\"muted\">No rule fired.</p>";
    }
    s += "</div>";
  }
  return s + "</div>";
}

// The learning curve as an inline SVG: recall and false-positive rate per
// window of comments, in input order.
std::string Curve(const Tally& t, bool learn) {
  std::string s = "<div id=\"learning-curve\">";
  if (t.window == 0 || t.windows.empty()) return s + "<p class=\"muted\">No curve (rescore --window N).</p></div>";
  const double w = 640, hgt = 220, left = 44, bottom = 24, top = 10;
  const size_t n = t.windows.size();
  auto x = [&](size_t i) { return left + (n > 1 ? (w - left - 10) * double(i) / double(n - 1) : 0.0); };
  auto y = [&](double v) { return top + (hgt - top - bottom) * (1 - v); };
  s += "<p>" + std::string(learn ? "Each comment was scored with what was learned from the comments before it, then "
                                   "learned (online replay). "
                                 : "") +
       "Recall of spam and false-positive rate of ham per " + std::to_string(t.window) +
       " comments in input order.</p><svg width=\"" + Num(w, "%.0f") + "\" height=\"" + Num(hgt, "%.0f") +
       "\" role=\"img\" aria-label=\"learning curve\">";
  for (int g = 0; g <= 4; ++g) {
    double v = g / 4.0;
    s += "<line x1=\"" + Num(left, "%.0f") + "\" x2=\"" + Num(w - 10, "%.0f") + "\" y1=\"" + Num(y(v), "%.1f") +
         "\" y2=\"" + Num(y(v), "%.1f") + "\" stroke=\"#ddd\"/><text x=\"2\" y=\"" + Num(y(v) + 4, "%.1f") +
         "\" font-size=\"11\">" + Num(v, "%.2f") + "</text>";
  }
  auto line = [&](int which, const char* color, const char* name) {
    std::string pts;
    for (size_t i = 0; i < n; ++i) {
      const auto& c = t.windows[i];
      size_t a = which == 0 ? c[0] : c[2], b = which == 0 ? c[0] + c[1] : c[2] + c[3];
      if (b == 0) continue;
      pts += Num(x(i), "%.1f") + "," + Num(y(double(a) / double(b)), "%.1f") + " ";
    }
    return "<polyline class=\"" + std::string(name) + "\" fill=\"none\" stroke=\"" + color +
           "\" stroke-width=\"2\" points=\"" + pts + "\"/>";
  };
  s += line(0, "#b03a2e", "recall") + line(1, "#1f618d", "fpr");
  s += "<text x=\"" + Num(left, "%.0f") + "\" y=\"" + Num(hgt - 6, "%.0f") + "\" font-size=\"11\">comments 1-" +
       std::to_string(t.window) + "</text><text x=\"" + Num(w - 140, "%.0f") + "\" y=\"" + Num(hgt - 6, "%.0f") +
       "\" font-size=\"11\">" + std::to_string((n - 1) * t.window + 1) + "-" + std::to_string(n * t.window) +
       "</text></svg><p class=\"legend\"><span style=\"color:#b03a2e\">&#9632; recall</span> "
       "<span style=\"color:#1f618d\">&#9632; false-positive rate</span></p>";
  s += "<table id=\"curve\"><thead><tr><th>comments</th><th class=\"n\">spam caught</th><th class=\"n\">recall</th>"
       "<th class=\"n\">ham flagged</th><th class=\"n\">false-positive rate</th></tr></thead><tbody>";
  for (size_t i = 0; i < n; ++i) {
    const auto& c = t.windows[i];
    s += "<tr><td>" + std::to_string(i * t.window + 1) + "-" + std::to_string((i + 1) * t.window) +
         "</td><td class=\"n\">" + std::to_string(c[0]) + " of " + std::to_string(c[0] + c[1]) +
         "</td><td class=\"n\">" + RatioText(c[0], c[0] + c[1]) + "</td><td class=\"n\">" + std::to_string(c[2]) +
         " of " + std::to_string(c[2] + c[3]) + "</td><td class=\"n\">" + PercentText(c[2], c[2] + c[3]) +
         "</td></tr>";
  }
  s += "</tbody></table>";
  if (t.warmup > 0) {
    const auto& c = t.after_warmup;
    s += "<p id=\"after-warmup\">After the first " + std::to_string(t.warmup) + " comments: recall " +
         RatioText(c[0], c[0] + c[1]) + " (" + std::to_string(c[0]) + " of " + std::to_string(c[0] + c[1]) +
         " spam), false-positive rate " + PercentText(c[2], c[2] + c[3]) + " (" + std::to_string(c[2]) + " of " +
         std::to_string(c[2] + c[3]) + " ham).</p>";
  }
  return s + "</div>";
}

}  // namespace

bool WriteReport(const std::string& path, sg_engine* engine, const Tally& t, const ReportInfo& info,
                 std::string* error) {
  double moderate = sg_engine_threshold(engine, SG_ACTION_MODERATE);
  double spam = sg_engine_threshold(engine, SG_ACTION_SPAM);
  double discard = sg_engine_threshold(engine, SG_ACTION_DISCARD);
  std::string files;
  for (const auto& f : info.files) files += (files.empty() ? "" : ", ") + f;
  time_t now = time(nullptr);
  char when[40];
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);

  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                  "<title>spamguard rescore report</title><style>";
  h += kStyle;
  h += "</style></head><body>\n<h1>spamguard rescore report</h1>\n";
  h += "<table class=\"meta\"><tr><td>dumps</td><td>" + Esc(files) + "</td></tr><tr><td>rules</td><td>" +
       Esc(info.rules) + " (" + std::to_string(sg_engine_rule_count(engine)) + " rules; moderate at " + Fmt(moderate) +
       ", spam at " + Fmt(spam) + ", discard at " + Fmt(discard) + ")</td></tr><tr><td>made</td><td>" + when +
       " by spamguard " + sg_version_string() + ", " + std::to_string(info.threads) + " thread" +
       (info.threads == 1 ? "" : "s") + ", " + Num(info.seconds, "%.2f") + " s</td></tr></table>\n";

  h += "<h2>Summary</h2>\n<div class=\"cards\" id=\"summary\">";
  h += Card("comments scored", std::to_string(t.total), "total");
  h += Card("records skipped", std::to_string(info.skipped), "skipped");
  static const char* kActions[5] = {"accept", "moderate", "spam", "discard", "throttle"};
  for (int a = 0; a < 5; ++a)
    if (t.actions[a] || a < 4) h += Card(kActions[a], std::to_string(t.actions[a]), std::string("action-") + kActions[a]);
  h += "</div>\n";
  if (t.HasPings()) {
    static const char* kKinds[3] = {"comment", "trackback", "pingback"};
    h += "<table id=\"kinds\"><thead><tr><th>kind</th>";
    for (int a = 0; a < 5; ++a) h += std::string("<th class=\"n\">") + kActions[a] + "</th>";
    h += "</tr></thead><tbody>";
    for (int k = 0; k < 3; ++k) {
      h += std::string("<tr data-kind=\"") + kKinds[k] + "\"><th>" + kKinds[k] + "s</th>";
      for (int a = 0; a < 5; ++a) h += "<td class=\"n\">" + std::to_string(t.by_kind[k][a]) + "</td>";
      h += "</tr>";
    }
    h += "</tbody></table>\n";
  }
  size_t spam_n = t.tp + t.fn, ham_n = t.tn + t.fp;
  if (spam_n + ham_n > 0) {
    Metrics m = ComputeMetrics(t);
    h += "<h2>Against the labels</h2>\n<p>" + std::to_string(spam_n) + " labeled spam, " + std::to_string(ham_n) +
         " labeled ham. A verdict of spam or discard counts as positive; moderation holds " +
         std::to_string(t.spam_moderated) + " spam and " + std::to_string(t.ham_moderated) + " ham for a person.</p>";
    h += "<div class=\"cards\" id=\"metrics\">" + Card("precision", Num(m.precision, "%.4f"), "precision") +
         Card("recall", Num(m.recall, "%.4f"), "recall") + Card("F1", Num(m.f1, "%.4f"), "f1") +
         Card("false-positive rate", ham_n ? Num(100 * m.fpr, "%.2f") + " %" : "n/a", "fpr") + "</div>";
    h += "<table id=\"confusion\"><thead><tr><th></th><th class=\"n\">verdict spam/discard</th>"
         "<th class=\"n\">verdict accept/moderate/throttle</th></tr></thead><tbody>"
         "<tr><th>labeled spam</th><td class=\"n\" id=\"tp\">" + std::to_string(t.tp) + "</td><td class=\"n\" id=\"fn\">" +
         std::to_string(t.fn) + "</td></tr><tr><th>labeled ham</th><td class=\"n\" id=\"fp\">" + std::to_string(t.fp) +
         "</td><td class=\"n\" id=\"tn\">" + std::to_string(t.tn) + "</td></tr></tbody></table>\n";
  }

  h += "<h2>Scores</h2>\n<p class=\"legend\"><span><span class=\"bar b-spam\" style=\"width:1em\"></span> labeled spam</span>"
       "<span><span class=\"bar b-ham\" style=\"width:1em\"></span> labeled ham</span>"
       "<span><span class=\"bar b-none\" style=\"width:1em\"></span> unlabeled</span></p>";
  h += Histogram(t, moderate, spam, discard) + "\n";

  if (t.window > 0) h += "<h2>Learning curve</h2>\n" + Curve(t, info.learn) + "\n";

  h += "<h2>Rules by hits</h2>\n";
  h += t.rules.empty() ? "<p class=\"muted\" id=\"rules-table\">No rule fired.</p>" : RuleBars(t);

  h += "\n<h2>Worst false positives</h2>\n<p>Labeled ham the rules called spam, highest score first.</p>";
  h += Examples(t.WorstFalsePositives(), "false-positives",
                ham_n ? "None: no labeled ham was called spam." : "The dump has no labeled ham.");
  h += "\n<h2>Worst false negatives</h2>\n<p>Labeled spam that got through, lowest score first.</p>";
  h += Examples(t.WorstFalseNegatives(), "false-negatives",
                spam_n ? "None: every labeled spam was caught." : "The dump has no labeled spam.");
  h += "\n</body></html>\n";

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    *error = path + ": cannot write: " + strerror(errno);
    return false;
  }
  out.write(h.data(), std::streamsize(h.size()));
  out.close();
  if (!out) {
    *error = path + ": write failed";
    return false;
  }
  return true;
}

}  // namespace sgcli
