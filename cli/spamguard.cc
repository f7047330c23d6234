// spamguard — the command-line tool: score comments, rescore dumps, check
// rules. Written against the public C API only.
//
// Exit codes: 0 success; 1 the job failed (unreadable input, broken rules);
// 2 usage error.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dump.h"
#include "record.h"
#include "spamguard/spamguard.h"

namespace {

constexpr int kExitFailed = 1;

struct EngineCloser {
  void operator()(sg_engine* e) const { sg_engine_close(e); }
};
struct CommentFree {
  void operator()(sg_comment* c) const { sg_comment_free(c); }
};
struct ResultFree {
  void operator()(sg_result* r) const { sg_result_free(r); }
};
using EnginePtr = std::unique_ptr<sg_engine, EngineCloser>;
using CommentPtr = std::unique_ptr<sg_comment, CommentFree>;
using ResultPtr = std::unique_ptr<sg_result, ResultFree>;

bool FileExists(const std::string& p) { return access(p.c_str(), R_OK) == 0; }

// The rules used when --rules is not given: $SPAMGUARD_RULES, the installed
// default, or data/spamguard.cf of the source tree this binary was built in.
std::string DefaultRules() {
  if (const char* env = getenv("SPAMGUARD_RULES"); env && *env) return env;
  if (FileExists(SG_INSTALLED_RULES)) return SG_INSTALLED_RULES;
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    std::string exe(buf, size_t(n));
    std::string dir = exe.substr(0, exe.rfind('/'));
    for (const char* rel : {"/../../data/spamguard.cf", "/../data/spamguard.cf"})
      if (FileExists(dir + rel)) return dir + rel;
  }
  return SG_INSTALLED_RULES;
}

// The database given with --db (or $SPAMGUARD_DB); empty for the rule
// file's `database` setting or the library's default.
std::string g_database;
// Rate limits: on for single comments, off when rescoring a dump unless it
// asks to replay them (in memory, on the dump's own timestamps).
int g_ratelimit_mode = SG_RATELIMIT_DATABASE;
// `rules lint` compiles everything at open, to report every problem.
bool g_eager = false;

EnginePtr OpenEngine(const std::string& path) {
  sg_engine* e = nullptr;
  sg_config* cfg = nullptr;
  int rc = sg_config_new(&cfg);
  if (rc == SG_OK && !g_database.empty()) rc = sg_config_set_str(cfg, SG_CFG_DATABASE, g_database.c_str());
  if (rc == SG_OK && g_eager) rc = sg_config_set_int(cfg, SG_CFG_EAGER_COMPILE, 1);
  if (rc == SG_OK && g_ratelimit_mode != SG_RATELIMIT_DATABASE)
    rc = sg_config_set_int(cfg, SG_CFG_RATELIMIT_MODE, g_ratelimit_mode);
  if (rc == SG_OK) rc = sg_engine_open(&e, path.c_str(), cfg);
  sg_config_free(cfg);
  if (rc < 0) {
    fprintf(stderr, "spamguard: %s\n", sg_error_message());
    return nullptr;
  }
  return EnginePtr(e);
}

std::string Printable(const char* s, size_t len, size_t max) {
  std::string out;
  for (size_t i = 0; i < len && out.size() < max; ++i) {
    unsigned char c = s[i];
    if (c == '\n' || c == '\r' || c == '\t') out.push_back(' ');
    else if (c < 0x20 || c == 0x7F) out += "?";
    else out.push_back(char(c));
  }
  if (len > max) out += "...";
  return out;
}

std::string Fmt(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// Prints one verdict, one hit per line.
void PrintVerdict(const std::string& id, const sg_result* r, FILE* out) {
  fprintf(out, "%s  %s  score %s\n", id.c_str(), sg_action_str(sg_result_action(r)), Fmt(sg_result_score(r)).c_str());
  for (size_t i = 0; i < sg_result_hit_count(r); ++i) {
    size_t len = 0;
    const char* m = sg_result_hit_match(r, i, &len);
    fprintf(out, "    %+6.2f  %-24s %-8s %s  [%s]\n", sg_result_hit_points(r, i), sg_result_hit_name(r, i),
            sg_result_hit_field(r, i), sg_result_hit_description(r, i), Printable(m, len, 80).c_str());
  }
}

std::string ResultJson(const sg_result* r) {
  char* json = nullptr;
  size_t len = 0;
  if (sg_result_to_json(&json, &len, r) < 0) return "{}";
  std::string s(json, len);
  sg_free(json);
  return s;
}

std::string JsonQuote(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o.push_back('\\');
      o.push_back(char(c));
    } else if (c < 0x20) {
      char b[8];
      snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o.push_back(char(c));
    }
  }
  return o + "\"";
}

struct Summary {
  size_t total = 0, skipped = 0;
  size_t actions[5] = {0, 0, 0, 0, 0};
  std::map<std::string, size_t> rule_hits;
  // Confusion by label: positives are verdicts spam or discard.
  size_t tp = 0, fp = 0, tn = 0, fn = 0, ham_moderated = 0, spam_moderated = 0;

  void Add(const sgcli::Record& rec, const sg_result* r) {
    ++total;
    int a = sg_result_action(r);
    if (a >= 0 && a < 5) ++actions[a];
    for (size_t i = 0; i < sg_result_hit_count(r); ++i) ++rule_hits[sg_result_hit_name(r, i)];
    bool positive = a == SG_ACTION_SPAM || a == SG_ACTION_DISCARD;
    if (rec.label == "spam") {
      positive ? ++tp : ++fn;
      if (a == SG_ACTION_MODERATE) ++spam_moderated;
    } else if (rec.label == "ham") {
      positive ? ++fp : ++tn;
      if (a == SG_ACTION_MODERATE) ++ham_moderated;
    }
  }

  void Print(FILE* out, size_t top) const {
    fprintf(out, "\n%zu comments scored, %zu records skipped\n", total, skipped);
    fprintf(out, "actions: accept %zu, moderate %zu, spam %zu, discard %zu, throttle %zu\n", actions[0],
            actions[1], actions[2], actions[3], actions[4]);
    std::vector<std::pair<std::string, size_t>> v(rule_hits.begin(), rule_hits.end());
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    if (!v.empty()) {
      fprintf(out, "top rules:\n");
      for (size_t i = 0; i < v.size() && i < top; ++i) fprintf(out, "  %6zu  %s\n", v[i].second, v[i].first.c_str());
    }
    size_t spam = tp + fn, ham = tn + fp;
    if (spam + ham == 0) return;
    auto ratio = [](size_t a, size_t b) { return b ? double(a) / double(b) : 0.0; };
    double precision = ratio(tp, tp + fp), recall = ratio(tp, spam);
    double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    fprintf(out, "labels: %zu spam, %zu ham (verdict spam or discard counts as positive)\n", spam, ham);
    fprintf(out, "  precision %.4f  recall %.4f  F1 %.4f  false-positive rate %s\n", precision, recall, f1,
            ham ? Fmt(100.0 * ratio(fp, ham)).append(" %").c_str() : "n/a (no ham)");
    fprintf(out, "  confusion: spam->spam %zu, spam->not %zu, ham->spam %zu, ham->not %zu\n", tp, fn, fp, tn);
    fprintf(out, "  held for moderation: %zu spam, %zu ham\n", spam_moderated, ham_moderated);
  }
};

int Rescore(const std::vector<std::string>& files, const std::string& format, const std::string& rules, bool quiet,
            bool json, size_t top) {
  EnginePtr engine = OpenEngine(rules);
  if (!engine) return kExitFailed;
  sg_comment* raw = nullptr;
  if (sg_comment_new(&raw) < 0) return kExitFailed;
  CommentPtr comment(raw);
  Summary sum;
  bool failed = false;
  sgcli::DumpCallbacks cb;
  cb.skip = [&](const std::string& where, const std::string& why) {
    fprintf(stderr, "spamguard: %s: skipped: %s\n", where.c_str(), why.c_str());
    ++sum.skipped;
  };
  cb.record = [&](const sgcli::Record& rec) {
    sg_result* r = nullptr;
    if (sgcli::ToComment(rec, comment.get()) < 0 || sg_engine_score(&r, engine.get(), comment.get()) < 0) {
      fprintf(stderr, "spamguard: %s: %s\n", rec.id.c_str(), sg_error_message());
      failed = true;
      return false;
    }
    ResultPtr result(r);
    sum.Add(rec, r);
    if (json) {
      std::string v = ResultJson(r);
      printf("{\"id\":%s,\"label\":%s,%s\n", JsonQuote(rec.id).c_str(), JsonQuote(rec.label).c_str(), v.c_str() + 1);
    } else if (!quiet) {
      PrintVerdict(rec.id, r, stdout);
    }
    return true;
  };
  for (const auto& path : files) {
    std::string error;
    if (!sgcli::ReadDump(path, format, cb, &error)) {
      fprintf(stderr, "spamguard: %s\n", error.c_str());
      failed = true;
    }
    if (failed) break;
  }
  sum.Print(json ? stderr : stdout, top);
  return failed ? kExitFailed : 0;
}

int ScoreOne(const sgcli::Record& rec, const std::string& rules, bool json) {
  EnginePtr engine = OpenEngine(rules);
  if (!engine) return kExitFailed;
  sg_comment* raw = nullptr;
  if (sg_comment_new(&raw) < 0) return kExitFailed;
  CommentPtr comment(raw);
  sg_result* r = nullptr;
  if (sgcli::ToComment(rec, comment.get()) < 0 || sg_engine_score(&r, engine.get(), comment.get()) < 0) {
    fprintf(stderr, "spamguard: %s\n", sg_error_message());
    return kExitFailed;
  }
  ResultPtr result(r);
  if (json) printf("%s\n", ResultJson(r).c_str());
  else PrintVerdict(rec.id.empty() ? "comment" : rec.id, r, stdout);
  return 0;
}

// learn spam|ham: one comment from the options, or every comment of dumps.
int Learn(const std::string& rules, const std::string& label, const sgcli::Record& one,
          const std::vector<std::string>& files, const std::string& format) {
  EnginePtr engine = OpenEngine(rules);
  if (!engine) return kExitFailed;
  int lab = label == "spam" ? SG_LABEL_SPAM : SG_LABEL_HAM;
  sg_comment* raw = nullptr;
  if (sg_comment_new(&raw) < 0) return kExitFailed;
  CommentPtr comment(raw);
  size_t learned = 0, skipped = 0;
  auto teach = [&](const sgcli::Record& rec, const std::string& where) {
    if (sgcli::ToComment(rec, comment.get()) < 0 || sg_engine_learn(engine.get(), comment.get(), lab) < 0) {
      fprintf(stderr, "spamguard: %s: %s\n", where.c_str(), sg_error_message());
      return false;
    }
    ++learned;
    return true;
  };
  if (files.empty()) {
    if (!teach(one, "comment")) return kExitFailed;
  }
  sgcli::DumpCallbacks cb;
  cb.skip = [&](const std::string& where, const std::string& why) {
    fprintf(stderr, "spamguard: %s: skipped: %s\n", where.c_str(), why.c_str());
    ++skipped;
  };
  bool failed = false;
  cb.record = [&](const sgcli::Record& rec) { return teach(rec, rec.id) || (failed = true, false); };
  for (const auto& path : files) {
    std::string error;
    if (!sgcli::ReadDump(path, format, cb, &error)) {
      fprintf(stderr, "spamguard: %s\n", error.c_str());
      return kExitFailed;
    }
    if (failed) return kExitFailed;
  }
  printf("learned %zu comments as %s, %zu records skipped\n", learned, label.c_str(), skipped);
  return 0;
}

// list add|remove|import on the allow or block list.
int ListCommand(const std::string& rules, const std::string& op, const std::string& which, const std::string& kind,
                const std::string& entry, const std::string& source, const std::string& reason, int64_t expires) {
  EnginePtr engine = OpenEngine(rules);
  if (!engine) return kExitFailed;
  if (!sg_engine_has_state(engine.get())) {
    fprintf(stderr, "spamguard: no database: %s\n", sg_engine_state_message(engine.get()));
    return kExitFailed;
  }
  int list = which == "allow" ? SG_LIST_ALLOW : SG_LIST_BLOCK;
  if (op == "add") {
    int k = kind == "ip" ? SG_ENTRY_IP : kind == "email" ? SG_ENTRY_EMAIL : kind == "email-domain" ? SG_ENTRY_EMAIL_DOMAIN
                                                                                                   : SG_ENTRY_URL_DOMAIN;
    if (sg_engine_list_add(engine.get(), list, k, entry.c_str(), source.c_str(), reason.c_str(), expires) < 0) {
      fprintf(stderr, "spamguard: %s\n", sg_error_message());
      return kExitFailed;
    }
    printf("added %s to the %s list\n", entry.c_str(), which.c_str());
    return 0;
  }
  if (op == "remove") {
    size_t removed = 0;
    if (sg_engine_list_remove(&removed, engine.get(), list, entry.c_str()) < 0) {
      fprintf(stderr, "spamguard: %s\n", sg_error_message());
      return kExitFailed;
    }
    printf("removed %zu entries from the %s list\n", removed, which.c_str());
    return 0;
  }
  sg_import_report* rep = nullptr;
  if (sg_engine_list_import(&rep, engine.get(), list, entry.c_str(), source.c_str(), reason.c_str(), expires) < 0) {
    fprintf(stderr, "spamguard: %s\n", sg_error_message());
    return kExitFailed;
  }
  for (size_t i = 0; i < sg_import_report_message_count(rep); ++i)
    fprintf(stderr, "spamguard: skipped: %s\n", sg_import_report_message(rep, i));
  printf("imported %zu entries into the %s list as source '%s', %zu lines skipped\n", sg_import_report_imported(rep),
         which.c_str(), source.c_str(), sg_import_report_skipped(rep));
  sg_import_report_free(rep);
  return 0;
}

int Lint(const std::string& rules, bool list) {
  EnginePtr engine = OpenEngine(rules);
  if (!engine) return kExitFailed;
  sg_engine* e = engine.get();
  size_t n = sg_engine_rule_count(e);
  std::map<std::string, size_t> by_field;
  for (size_t i = 0; i < n; ++i) ++by_field[sg_engine_rule_field(e, i)];
  printf("%s: %zu rules (", rules.c_str(), n);
  bool first = true;
  for (const auto& [f, c] : by_field) {
    printf("%s%zu %s", first ? "" : ", ", c, f.c_str());
    first = false;
  }
  printf("); moderate at %s, spam at %s, discard at %s\n", Fmt(sg_engine_threshold(e, SG_ACTION_MODERATE)).c_str(),
         Fmt(sg_engine_threshold(e, SG_ACTION_SPAM)).c_str(), Fmt(sg_engine_threshold(e, SG_ACTION_DISCARD)).c_str());
  for (size_t i = 0; i < sg_engine_warning_count(e); ++i) printf("warning: %s\n", sg_engine_warning(e, i));
  if (list)
    for (size_t i = 0; i < n; ++i)
      printf("  %+6.2f  %-28s %-10s %s\n", sg_engine_rule_score(e, i), sg_engine_rule_name(e, i),
             sg_engine_rule_field(e, i), sg_engine_rule_description(e, i));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"spamguard: fast, explainable comment and trackback spam filter"};
  app.require_subcommand(1);
  app.fallthrough();  // --rules may follow the subcommand
  std::string rules;
  app.add_option("-r,--rules", rules, "rule file (.cf); default: $SPAMGUARD_RULES or the installed spamguard.cf");
  app.add_option("--db", g_database,
                 "SQLite database of lists and reputation ('none': content rules only); default: $SPAMGUARD_DB, "
                 "the rule file's database setting, or /var/lib/spamguard/spamguard.db");

  auto* version = app.add_subcommand("version", "print the library version");

  sgcli::Record rec;
  bool score_json = false, from_stdin = false;
  auto* score = app.add_subcommand("score", "score one comment given by options, or as a JSON object on stdin");
  score->add_option("--id", rec.id, "comment id");
  score->add_option("--kind", rec.kind, "comment, trackback or pingback")->check(CLI::IsMember({"comment", "trackback", "pingback"}));
  score->add_option("--author", rec.author, "author name");
  score->add_option("--email", rec.email, "author e-mail");
  score->add_option("--url", rec.url, "author URL");
  score->add_option("--ip", rec.ip, "client IP address");
  score->add_option("--ua", rec.user_agent, "user agent");
  score->add_option("--referrer", rec.referrer, "referrer");
  score->add_option("--body", rec.body, "comment text");
  score->add_option("--blog-name", rec.blog_name, "trackback: sending blog name");
  score->add_option("--title", rec.title, "trackback: entry title");
  score->add_option("--excerpt", rec.excerpt, "trackback: excerpt");
  score->add_option("--source-url", rec.source_url, "trackback: source URL");
  score->add_flag("--stdin", from_stdin, "read the comment as one JSON object from stdin");
  score->add_flag("--json", score_json, "print the verdict as JSON");

  std::vector<std::string> files;
  std::string format = "auto";
  bool quiet = false, json = false;
  size_t top = 15;
  auto* rescore = app.add_subcommand("rescore", "score every comment of JSON Lines dumps; print verdicts and a summary");
  rescore->add_option("files", files, "comment dumps: JSON Lines, CSV with a header, Movable Type export, WordPress WXR")
      ->required();
  rescore->add_option("--format", format, "auto, jsonl, csv, mt or wxr")
      ->check(CLI::IsMember({"auto", "jsonl", "csv", "mt", "wxr"}))
      ->capture_default_str();
  rescore->add_flag("-q,--quiet", quiet, "print only the summary");
  rescore->add_flag("--json", json, "print one JSON verdict per line (summary goes to stderr)");
  rescore->add_option("--top", top, "rules listed in the summary")->capture_default_str();
  bool replay_limits = false;
  rescore->add_flag("--replay-limits", replay_limits,
                    "apply the rate limits on the dump's own timestamps, in memory (the database is not touched)");

  std::string label;
  std::vector<std::string> learn_files;
  auto* learn = app.add_subcommand("learn", "teach the database that comments are spam or ham");
  learn->add_option("label", label, "spam or ham")->required()->check(CLI::IsMember({"spam", "ham"}));
  learn->add_option("files", learn_files, "comment dumps (else one comment from the options)");
  learn->add_option("--format", format, "auto, jsonl, csv, mt or wxr")
      ->check(CLI::IsMember({"auto", "jsonl", "csv", "mt", "wxr"}));
  learn->add_option("--id", rec.id, "comment id");
  learn->add_option("--ip", rec.ip, "client IP address");
  learn->add_option("--body", rec.body, "comment text");
  learn->add_option("--author", rec.author, "author name");
  learn->add_option("--email", rec.email, "author e-mail");

  auto* list_cmd = app.add_subcommand("list", "manage the allow and block lists");
  list_cmd->require_subcommand(1);
  std::string list_which = "block", list_kind = "ip", list_entry, list_source = "admin", list_reason;
  int64_t list_expires = 0;
  std::vector<CLI::App*> list_ops;
  for (const char* op : {"add", "remove", "import"}) {
    auto* sub = list_cmd->add_subcommand(op, std::string(op) == "add"      ? "add an entry"
                                             : std::string(op) == "remove" ? "remove an entry"
                                                                           : "import a list file, replacing that source");
    sub->add_option("list", list_which, "allow or block")->required()->check(CLI::IsMember({"allow", "block"}));
    sub->add_option("entry", list_entry, std::string(op) == "import" ? "the list file" : "address, CIDR, e-mail or domain")
        ->required();
    if (std::string(op) != "remove") {
      sub->add_option("--source", list_source, "who or what added it (an import replaces its source)")
          ->capture_default_str();
      sub->add_option("--reason", list_reason, "why");
      sub->add_option("--expires", list_expires, "unix time after which it no longer matches (0: never)");
    }
    if (std::string(op) == "add")
      sub->add_option("--kind", list_kind, "ip, email, email-domain or url-domain")
          ->check(CLI::IsMember({"ip", "email", "email-domain", "url-domain"}))
          ->capture_default_str();
    list_ops.push_back(sub);
  }

  auto* rules_cmd = app.add_subcommand("rules", "check and try rules");
  rules_cmd->require_subcommand(1);
  bool list = false;
  auto* lint = rules_cmd->add_subcommand("lint", "load a rule file, report errors, count rules");
  lint->add_flag("-l,--list", list, "list every rule");
  std::string text;
  auto* test = rules_cmd->add_subcommand("test", "show which rules fire on a text (as a comment body)");
  test->add_option("text", text, "the text")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (rules.empty()) rules = DefaultRules();
  if (const char* env = getenv("SPAMGUARD_DB"); g_database.empty() && env && *env) g_database = env;

  if (*version) {
    printf("spamguard %s (library %s)\n", SG_VERSION_STRING, sg_version_string());
    return 0;
  }
  if (*score) {
    if (from_stdin) {
      std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
      std::string error;
      if (!sgcli::ParseJsonRecord(all, &rec, &error)) {
        fprintf(stderr, "spamguard: stdin: %s\n", error.c_str());
        return kExitFailed;
      }
    }
    return ScoreOne(rec, rules, score_json);
  }
  if (*rescore) {
    g_ratelimit_mode = replay_limits ? SG_RATELIMIT_MEMORY : SG_RATELIMIT_OFF;
    return Rescore(files, format, rules, quiet, json, top);
  }
  if (*lint) {
    g_eager = true;
    return Lint(rules, list);
  }
  if (*learn) return Learn(rules, label, rec, learn_files, format);
  for (auto* op : list_ops)
    if (*op) return ListCommand(rules, op->get_name(), list_which, list_kind, list_entry, list_source, list_reason,
                                list_expires);
  if (*test) {
    sgcli::Record r;
    r.body = text;
    r.id = "text";
    return ScoreOne(r, rules, false);
  }
  return 2;
}
