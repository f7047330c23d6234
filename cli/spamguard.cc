// spamguard — the command-line tool: score comments, rescore dumps, check
// rules. Written against the public C API only.
//
// Exit codes: 0 success; 1 the job failed (unreadable input, broken rules);
// 2 usage error.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <ctime>
#include <nlohmann/json.hpp>
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
#include "export.h"
#include "output.h"
#include "record.h"
#include "rescore.h"
#include "spamguard/spamguard.h"

namespace {

using namespace sgcli;

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

// The rules used when --rules is not given: $SPAMGUARD_RULES, else what the
// library says its installation uses (the admin's /etc/spamguard file or the
// shipped rules, found relative to the installed library; in the build tree,
// the source tree's rules).
std::string DefaultRules() {
  if (const char* env = getenv("SPAMGUARD_RULES"); env && *env) return env;
  return sg_default_rules();
}

// The database given with --db (or $SPAMGUARD_DB); empty for the rule
// file's `database` setting or the library's default.
std::string g_database;
// Rate limits: on for single comments, off when rescoring a dump unless it
// asks to replay them (in memory, on the dump's own timestamps).
int g_ratelimit_mode = SG_RATELIMIT_DATABASE;
// `rules lint` compiles everything at open, to report every problem.
// The command compiles every rule set at open, so that rules over the RE2
// memory budget are refused before anything is read or scored.
bool g_eager = true;
// Commands that only look (rescore without --learn, ip, stats, list show)
// open the database read-only and never create it.
bool g_read_only = false;

EnginePtr OpenEngine(const std::string& path) {
  sg_engine* e = nullptr;
  sg_config* cfg = nullptr;
  int rc = sg_config_new(&cfg);
  if (rc == SG_OK && !g_database.empty()) rc = sg_config_set_str(cfg, SG_CFG_DATABASE, g_database.c_str());
  if (rc == SG_OK && g_eager) rc = sg_config_set_int(cfg, SG_CFG_EAGER_COMPILE, 1);
  if (rc == SG_OK && g_read_only) rc = sg_config_set_int(cfg, SG_CFG_READ_ONLY, 1);
  if (rc == SG_OK && g_ratelimit_mode != SG_RATELIMIT_DATABASE)
    rc = sg_config_set_int(cfg, SG_CFG_RATELIMIT_MODE, g_ratelimit_mode);
  if (rc == SG_OK) rc = sg_engine_open(&e, path.c_str(), cfg);
  sg_config_free(cfg);
  if (rc < 0) {
    fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
    return nullptr;
  }
  return EnginePtr(e);
}

int ScoreOne(const sgcli::Record& rec, const std::string& rules, bool json) {
  EnginePtr engine = OpenEngine(rules);
  if (!engine) return kExitFailed;
  // Say it when the database could not be used: without it there are no
  // lists, reputation or rate limits, and the verdict is the content's alone.
  if (const char* why = sg_engine_state_message(engine.get()); *why)
    fprintf(stderr, "spamguard: database not used: %s (content rules only)\n", why);
  sg_comment* raw = nullptr;
  if (sg_comment_new(&raw) < 0) return kExitFailed;
  CommentPtr comment(raw);
  sg_result* r = nullptr;
  if (sgcli::ToComment(rec, comment.get()) < 0 || sg_engine_score(&r, engine.get(), comment.get()) < 0) {
    fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
    return kExitFailed;
  }
  ResultPtr result(r);
  if (json) printf("%s\n", ResultJson(r).c_str());
  else fputs(VerdictText(rec.id.empty() ? "comment" : rec.id, r).c_str(), stdout);
  if (!json && (sg_result_flags(r) & SG_FLAG_STATE_UNAVAILABLE))
    printf("    (state unavailable: lists, reputation and rate limits were not consulted)\n");
  return 0;
}

// learn spam|ham|forget: one comment from the options, or every comment of
// dumps. forget takes back what learning them added.
int Learn(const std::string& rules, const std::string& label, const sgcli::Record& one,
          const std::vector<std::string>& files, const std::string& format) {
  EnginePtr engine = OpenEngine(rules);
  if (!engine) return kExitFailed;
  const bool forget = label == "forget";
  int lab = label == "spam" ? SG_LABEL_SPAM : SG_LABEL_HAM;
  sg_comment* raw = nullptr;
  if (sg_comment_new(&raw) < 0) return kExitFailed;
  CommentPtr comment(raw);
  size_t learned = 0, skipped = 0, unknown = 0;
  auto teach = [&](const sgcli::Record& rec, const std::string& where) {
    int found = 0;
    if (sgcli::ToComment(rec, comment.get()) < 0 ||
        (forget ? sg_engine_forget(&found, engine.get(), comment.get()) : sg_engine_learn(engine.get(), comment.get(), lab)) < 0) {
      fprintf(stderr, "spamguard: %s: %s\n", Shown(where.c_str()).c_str(), Shown(sg_error_message()).c_str());
      return false;
    }
    if (forget && !found) ++unknown;
    else ++learned;
    return true;
  };
  if (files.empty()) {
    if (!teach(one, "comment")) return kExitFailed;
  } else if (sg_engine_batch(engine.get(), 1) < 0) {
    // Dumps are learned in batches of transactions (sg_engine_batch).
    fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
    return kExitFailed;
  }
  sgcli::DumpCallbacks cb;
  cb.skip = [&](const std::string& where, const std::string& why) {
    fputs(SkipMessage(where, why).c_str(), stderr);
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
  if (!files.empty() && sg_engine_batch(engine.get(), 0) < 0) {
    fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
    return kExitFailed;
  }
  if (forget)
    printf("forgot %zu learned comments, %zu had not been learned, %zu records skipped\n", learned, unknown, skipped);
  else
    printf("learned %zu comments as %s, %zu records skipped\n", learned, label.c_str(), skipped);
  return 0;
}

// Opens the engine for a command that needs the database.
EnginePtr OpenWithState(const std::string& rules) {
  EnginePtr engine = OpenEngine(rules);
  if (engine && !sg_engine_has_state(engine.get())) {
    const char* why = sg_engine_state_message(engine.get());
    fprintf(stderr, "spamguard: no database: %s\n", *why ? why : "database none (use --db FILE)");
    return nullptr;
  }
  return engine;
}

// list add|remove|import on the allow or block list.
int ListCommand(const std::string& rules, const std::string& op, const std::string& which, const std::string& kind,
                const std::string& entry, const std::string& source, const std::string& reason, int64_t expires) {
  EnginePtr engine = OpenWithState(rules);
  if (!engine) return kExitFailed;
  int list = which == "allow" ? SG_LIST_ALLOW : SG_LIST_BLOCK;
  if (op == "add") {
    int k = kind == "ip" ? SG_ENTRY_IP : kind == "email" ? SG_ENTRY_EMAIL : kind == "email-domain" ? SG_ENTRY_EMAIL_DOMAIN
                                                                                                   : SG_ENTRY_URL_DOMAIN;
    if (sg_engine_list_add(engine.get(), list, k, entry.c_str(), source.c_str(), reason.c_str(), expires) < 0) {
      fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
      return kExitFailed;
    }
    printf("added %s to the %s list\n", entry.c_str(), which.c_str());
    return 0;
  }
  if (op == "remove") {
    size_t removed = 0;
    if (sg_engine_list_remove(&removed, engine.get(), list, entry.c_str()) < 0) {
      fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
      return kExitFailed;
    }
    printf("removed %zu entries from the %s list\n", removed, which.c_str());
    return 0;
  }
  sg_import_report* rep = nullptr;
  if (which == "keywords" || which == "link-patterns") {
    int kind = which == "keywords" ? SG_KEYWORDS_PHRASES : SG_KEYWORDS_LINK_PATTERNS;
    if (sg_engine_keywords_import(&rep, engine.get(), kind, entry.c_str(), source.c_str()) < 0) {
      fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
      return kExitFailed;
    }
    for (size_t i = 0; i < sg_import_report_message_count(rep); ++i)
      fprintf(stderr, "spamguard: skipped: %s\n",
              Printable(sg_import_report_message(rep, i), strlen(sg_import_report_message(rep, i)), 300).c_str());
    printf("imported %zu %s as source '%s', %zu lines skipped\n", sg_import_report_imported(rep),
           which == "keywords" ? "keyword phrases" : "link patterns", source.c_str(), sg_import_report_skipped(rep));
    sg_import_report_free(rep);
    return 0;
  }
  if (sg_engine_list_import(&rep, engine.get(), list, entry.c_str(), source.c_str(), reason.c_str(), expires) < 0) {
    fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
    return kExitFailed;
  }
  for (size_t i = 0; i < sg_import_report_message_count(rep); ++i)
    fprintf(stderr, "spamguard: skipped: %s\n",
            Printable(sg_import_report_message(rep, i), strlen(sg_import_report_message(rep, i)), 300).c_str());
  printf("imported %zu entries into the %s list as source '%s', %zu lines skipped\n", sg_import_report_imported(rep),
         which.c_str(), source.c_str(), sg_import_report_skipped(rep));
  sg_import_report_free(rep);
  return 0;
}

// ip ADDRESS: which list holds it, and its reputation.
int IpCommand(const std::string& rules, const std::string& ip, bool json) {
  EnginePtr engine = OpenWithState(rules);
  if (!engine) return kExitFailed;
  sg_result* r = nullptr;
  if (sg_engine_explain_ip(&r, engine.get(), ip.c_str(), 0) < 0) {
    fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
    return kExitFailed;
  }
  ResultPtr result(r);
  if (json) printf("{\"ip\":%s,%s\n", JsonQuote(ip).c_str(), ResultJson(r).c_str() + 1);
  else fputs(VerdictText(ip, r).c_str(), stdout);
  return 0;
}

std::string ListOf(int list) { return list == SG_LIST_ALLOW ? "allow" : list == SG_LIST_BLOCK ? "block" : "?"; }

// list show [allow|block|all]: the newest entries.
int ListShow(const std::string& rules, const std::string& which, const std::string& source, size_t limit, bool json) {
  EnginePtr engine = OpenWithState(rules);
  if (!engine) return kExitFailed;
  int list = which == "allow" ? SG_LIST_ALLOW : which == "block" ? SG_LIST_BLOCK : 0;
  sg_list_entries* raw = nullptr;
  if (sg_engine_list_entries(&raw, engine.get(), list, source.empty() ? nullptr : source.c_str(), limit) < 0) {
    fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
    return kExitFailed;
  }
  std::unique_ptr<sg_list_entries, void (*)(sg_list_entries*)> entries(raw, sg_list_entries_free);
  size_t n = sg_list_entries_count(raw);
  int64_t now = int64_t(time(nullptr));
  for (size_t i = 0; i < n; ++i) {
    int64_t expires = sg_list_entries_expires(raw, i);
    if (json) {
      printf("{\"list\":\"%s\",\"kind\":\"%s\",\"entry\":%s,\"source\":%s,\"reason\":%s,\"added\":%lld,"
             "\"expires\":%lld,\"expired\":%s}\n",
             ListOf(sg_list_entries_list(raw, i)).c_str(), sg_entry_kind_str(sg_list_entries_kind(raw, i)),
             JsonQuote(sg_list_entries_value(raw, i)).c_str(), JsonQuote(sg_list_entries_source(raw, i)).c_str(),
             JsonQuote(sg_list_entries_reason(raw, i)).c_str(), (long long)sg_list_entries_added(raw, i),
             (long long)expires, expires != 0 && expires <= now ? "true" : "false");
      continue;
    }
    if (i == 0) printf("%-6s %-12s %-40s %-12s %-21s %-21s %s\n", "list", "kind", "entry", "source", "added", "expires", "reason");
    std::string exp = FormatTime(expires);
    if (expires != 0 && expires <= now) exp += " (expired)";
    auto shown = [](const char* s) { return Printable(s, strlen(s), 200); };  // imported text is not trusted
    printf("%-6s %-12s %-40s %-12s %-21s %-21s %s\n", ListOf(sg_list_entries_list(raw, i)).c_str(),
           sg_entry_kind_str(sg_list_entries_kind(raw, i)), shown(sg_list_entries_value(raw, i)).c_str(),
           shown(sg_list_entries_source(raw, i)).c_str(), FormatTime(sg_list_entries_added(raw, i)).c_str(),
           exp.c_str(), shown(sg_list_entries_reason(raw, i)).c_str());
  }
  if (!json) {
    if (n == 0) printf("no entries\n");
    else if (n == limit) printf("(the %zu newest; --limit N shows more, `spamguard stats` counts them all)\n", n);
  }
  return 0;
}

// prune: forget commenters' traces older than the rules' retention_days.
int PruneCommand(const std::string& rules, bool json) {
  EnginePtr engine = OpenWithState(rules);
  if (!engine) return kExitFailed;
  char* raw = nullptr;
  if (sg_engine_prune(&raw, nullptr, engine.get(), 0) < 0) {
    fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
    return kExitFailed;
  }
  nlohmann::json r = nlohmann::json::parse(raw, nullptr, false);
  std::string text = raw;
  sg_free(raw);
  if (json || r.is_discarded()) {
    printf("%s\n", text.c_str());
    return 0;
  }
  long long learned = r["learned"].get<long long>(), rep = r["reputation"].get<long long>(),
            entries = r["list_entries"].get<long long>(), rate = r["ratelimit"].get<long long>();
  if (int days = r["retention_days"].get<int>(); days > 0)
    printf("pruned %lld learned comments, %lld reputation keys and %lld expired list entries older than %d days, "
           "and %lld spent rate-limit keys\n", learned, rep, entries, days, rate);
  else
    printf("retention_days 0: learned comments, reputation and expired list entries are kept; pruned %lld spent "
           "rate-limit keys\n", rate);
  return 0;
}

// stats: what the database holds, and the rules in use.
// db copy FROM TO: everything FROM holds, into TO (empty), both with the
// rule file's settings.
int CopyCommand(const std::string& rules, const std::string& from, const std::string& to) {
  g_database = from;
  g_read_only = true;
  g_ratelimit_mode = SG_RATELIMIT_OFF;
  EnginePtr engine = OpenWithState(rules);
  if (!engine) return kExitFailed;
  sg_import_report* report = nullptr;
  if (sg_engine_copy(&report, engine.get(), to.c_str()) < 0) {
    fprintf(stderr, "spamguard: db copy: %s\n", Shown(sg_error_message()).c_str());
    return kExitFailed;
  }
  // (A password in an address is not printed.)
  auto shown = [](std::string d) {
    size_t scheme = d.find("://"), at = d.rfind('@');
    if (scheme != std::string::npos && at != std::string::npos && at > scheme) d.erase(scheme + 3, at + 1 - scheme - 3);
    return Shown(d.c_str());
  };
  printf("copied %zu records from %s to %s:", sg_import_report_imported(report), shown(from).c_str(), shown(to).c_str());
  for (size_t i = 0; i < sg_import_report_message_count(report); ++i)
    printf("%s %s", i ? "," : "", sg_import_report_message(report, i));
  printf("\n");
  sg_import_report_free(report);
  return 0;
}

int StatsCommand(const std::string& rules, bool json) {
  EnginePtr engine = OpenWithState(rules);
  if (!engine) return kExitFailed;
  char* raw = nullptr;
  if (sg_engine_stats(&raw, nullptr, engine.get()) < 0) {
    fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
    return kExitFailed;
  }
  nlohmann::json st = nlohmann::json::parse(raw, nullptr, false);
  sg_free(raw);
  if (st.is_discarded()) {
    fprintf(stderr, "spamguard: the library's statistics did not parse\n");
    return kExitFailed;
  }
  sg_engine* e = engine.get();
  st["rules"] = {{"file", rules},
                 {"count", sg_engine_rule_count(e)},
                 {"moderate", sg_engine_threshold(e, SG_ACTION_MODERATE)},
                 {"spam", sg_engine_threshold(e, SG_ACTION_SPAM)},
                 {"discard", sg_engine_threshold(e, SG_ACTION_DISCARD)}};
  if (json) {
    printf("%s\n", st.dump().c_str());
    return 0;
  }
  printf("database  %s (schema %d, %.1f MiB%s)\n", st["database"].get<std::string>().c_str(),
         st["schema_version"].get<int>(), st["file_bytes"].get<double>() / 1048576.0,
         st["read_only"].get<bool>() ? ", read-only" : "");
  printf("rules     %s: %zu rules; moderate at %s, spam at %s, discard at %s\n", rules.c_str(), sg_engine_rule_count(e),
         Fmt(sg_engine_threshold(e, SG_ACTION_MODERATE)).c_str(), Fmt(sg_engine_threshold(e, SG_ACTION_SPAM)).c_str(),
         Fmt(sg_engine_threshold(e, SG_ACTION_DISCARD)).c_str());
  printf("lists\n");
  if (st["lists"].empty()) printf("  (empty)\n");
  for (const auto& l : st["lists"])
    printf("  %-6s %-13s %10lld active %10lld expired\n", l["list"].get<std::string>().c_str(),
           l["kind"].get<std::string>().c_str(), l["active"].get<long long>(), l["expired"].get<long long>());
  if (!st["sources"].empty()) {
    printf("sources\n");
    for (const auto& src : st["sources"])
      printf("  %-6s %-24s %10lld entries\n", src["list"].get<std::string>().c_str(),
             src["source"].get<std::string>().c_str(), src["entries"].get<long long>());
  }
  const auto& rep = st["reputation"];
  printf("reputation  %lld addresses and networks; %.1f spam and %.1f ham reports (before decay)\n",
         rep["keys"].get<long long>(), rep["spam"].get<double>(), rep["ham"].get<double>());
  printf("learned     %lld spam, %lld ham\n", st["learned"]["spam"].get<long long>(),
         st["learned"]["ham"].get<long long>());
  if (st.contains("learner")) {
    const auto& ln = st["learner"];
    long long sp = ln["spam"].get<long long>(), hm = ln["ham"].get<long long>();
    long long msp = ln["min_spam"].get<long long>(), mhm = ln["min_ham"].get<long long>();
    printf("learner     %lld tokens (at most %lld) from %lld spam and %lld ham comments; ", ln["tokens"].get<long long>(),
           ln["max_tokens"].get<long long>(), sp, hm);
    if (ln["rules"].get<long long>() == 0)
      printf("not scored (the rule file has no 'learned' rules)\n");
    else if (ln["scoring"].get<bool>())
      printf("scoring (%lld learned rules)\n", ln["rules"].get<long long>());
    else
      printf("silent until %lld spam and %lld ham are learned (learn_min_spam, learn_min_ham)\n", msp, mhm);
  }
  const auto& rl = st["ratelimits"];
  printf("rate limits %lld keys in %s; when the state cannot be had: %s (ratelimit_fail_closed %d)\n",
         rl["keys"].get<long long>(), Shown(rl["file"].get<std::string>().c_str()).c_str(),
         rl["when_unavailable"].get<std::string>() == "throttle" ? "throttle" : "allow, flagged state_unavailable",
         rl["when_unavailable"].get<std::string>() == "throttle" ? 1 : 0);
  if (rl["unavailable"].is_string())
    printf("            unavailable: %s\n", Shown(rl["unavailable"].get<std::string>().c_str()).c_str());
  const auto& fm = st["forms"];
  const std::string secret = fm["secret"].get<std::string>();
  printf("forms       %lld form rules; signed with %s; %lld tokens' uses counted\n", fm["rules"].get<long long>(),
         secret == "rule file"  ? "the rule file's form_secret"
         : secret == "database" ? ("the database's secret (" + std::to_string(fm["secrets"].get<long long>()) +
                                   " held, the newest made " + FormatTime(fm["newest"].get<long long>()) + ")")
                                      .c_str()
                                : "the database's secret, made on the first token",
         fm["tokens_counted"].get<long long>());
  const auto& kw = st["keywords"];
  if (kw.empty()) printf("keywords    none imported (list import keywords|link-patterns)\n");
  for (size_t i = 0; i < kw.size(); ++i)
    printf("%s%lld %s from source '%s'\n", i ? "            " : "keywords    ", kw[i]["entries"].get<long long>(),
           kw[i]["kind"].get<std::string>() == "phrases" ? "phrases" : "link patterns",
           Shown(kw[i]["source"].get<std::string>().c_str()).c_str());
  const auto& ru = st["atoms"];
  const std::string cache = ru["cache"].get<std::string>();
  const std::string where = cache.empty() ? std::string("no atom cache (every pattern parsed at open)")
                                          : "atoms cached in " + Shown(cache.c_str()) + " (" +
                                                std::to_string(ru["from_cache"].get<long long>()) +
                                                " read from it by this process)";
  printf("rules       %lld regex rules run when their atoms appear (%lld atoms), %lld always; %s\n",
         ru["with_atoms"].get<long long>(), ru["atoms"].get<long long>(), ru["always_run"].get<long long>(),
         where.c_str());
  return 0;
}

int Lint(const std::string& rules, bool list, bool json) {
  EnginePtr engine = OpenEngine(rules);
  if (!engine) return kExitFailed;
  sg_engine* e = engine.get();
  size_t n = sg_engine_rule_count(e);
  if (json) {
    nlohmann::json j = {{"file", rules},
                        {"moderate", sg_engine_threshold(e, SG_ACTION_MODERATE)},
                        {"spam", sg_engine_threshold(e, SG_ACTION_SPAM)},
                        {"discard", sg_engine_threshold(e, SG_ACTION_DISCARD)},
                        {"rules", nlohmann::json::array()},
                        {"warnings", nlohmann::json::array()}};
    for (size_t i = 0; i < n; ++i)
      j["rules"].push_back({{"name", sg_engine_rule_name(e, i)},
                            {"field", sg_engine_rule_field(e, i)},
                            {"score", sg_engine_rule_score(e, i)},
                            {"description", sg_engine_rule_description(e, i)}});
    for (size_t i = 0; i < sg_engine_warning_count(e); ++i) j["warnings"].push_back(sg_engine_warning(e, i));
    printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
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
  // Warnings and descriptions come from the rule file: printed safe.
  for (size_t i = 0; i < sg_engine_warning_count(e); ++i) printf("warning: %s\n", Shown(sg_engine_warning(e, i)).c_str());
  if (list)
    for (size_t i = 0; i < n; ++i)
      printf("  %6s  %-28s %-10s %s\n", FixedNumber(sg_engine_rule_score(e, i), 2, true).c_str(),
             sg_engine_rule_name(e, i), sg_engine_rule_field(e, i), Shown(sg_engine_rule_description(e, i)).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"spamguard: fast, explainable comment and trackback spam filter"};
  app.require_subcommand(1);
  app.fallthrough();  // --rules may follow the subcommand
  app.footer(
      "Exit codes: 0 done; 1 the job failed (unreadable input or rules, a database error, a bad address); "
      "2 usage error.\nEnvironment: SPAMGUARD_RULES (rule file), SPAMGUARD_DB (database).\n"
      "Run 'spamguard COMMAND --help' for a command's options.");
  std::string rules;
  app.add_option("-r,--rules", rules,
                 "rule file (.cf); default: $SPAMGUARD_RULES, else the admin's /etc/spamguard/spamguard.cf, else the "
                 "shipped rules (both found relative to the installed library)");
  app.add_option("--db", g_database,
                 "SQLite database of lists and reputation ('none': content rules only); default: $SPAMGUARD_DB, "
                 "the rule file's database setting, or /var/lib/spamguard/spamguard.db");

  auto* version = app.add_subcommand("version", "print the library version");
  app.set_version_flag("--version", std::string("spamguard ") + SG_VERSION_STRING + " (library " + sg_version_string() + ")",
                       "print the version and exit");

  sgcli::Record rec;
  bool score_json = false, from_stdin = false;
  auto* score = app.add_subcommand("score", "score one comment given by options, or as a JSON object on stdin");
  score->add_option("--id", rec.id, "comment id");
  score->add_option("--kind", rec.kind, "comment, trackback or pingback")->check(CLI::IsMember({"comment", "trackback", "pingback"}));
  score->add_option("--author", rec.author, "author name");
  score->add_option("--email", rec.email, "author e-mail");
  score->add_option("--url", rec.url, "author URL");
  score->add_option("--ip", rec.ip, "client IP address (the peer the web server saw)");
  score->add_option("--forwarded-for", rec.forwarded_for,
                    "the X-Forwarded-For header; believed only when --ip is a trusted_proxy of the rules");
  score->add_option("--ua", rec.user_agent, "user agent");
  score->add_option("--referrer", rec.referrer, "referrer");
  score->add_option("--body", rec.body, "comment text");
  score->add_option("--blog-name", rec.blog_name, "trackback: sending blog name");
  score->add_option("--title", rec.title, "trackback: entry title");
  score->add_option("--excerpt", rec.excerpt, "trackback: excerpt");
  score->add_option("--source-url", rec.source_url, "trackback: source URL");
  score->add_option("--post-id", rec.post_id, "the post commented on");
  score->add_option("--form-token", rec.form_token,
                    "the token the comment form carried ('' for a form that came back without one)");
  score->add_option("--honeypot", rec.honeypot, "what the form's hidden honeypot field held");
  score->add_flag("--stdin", from_stdin, "read the comment as one JSON object from stdin");
  score->add_flag("--json", score_json, "print the verdict as JSON");
  bool score_limits = false;
  score->add_flag("--ratelimit", score_limits,
                  "charge the database's live rate limits, as the blog would (by default trying a comment here "
                  "never uses up a real sender's allowance)");

  RescoreOptions ro;
  std::string format = "auto";
  bool no_progress = false, force_progress = false;
  auto* rescore = app.add_subcommand(
      "rescore", "score every comment of dumps on every core; print verdicts and a summary (read-only unless --learn)");
  rescore->add_option("files", ro.files,
                      "comment dumps (- for standard input): JSON Lines, CSV with a header, Movable Type export, "
                      "WordPress WXR")
      ->required();
  rescore->add_option("--format", ro.format, "auto, jsonl, csv, mt or wxr")
      ->check(CLI::IsMember({"auto", "jsonl", "csv", "mt", "wxr"}))
      ->capture_default_str();
  rescore->add_flag("-q,--quiet", ro.quiet, "print only the summary");
  rescore->add_flag("--json", ro.json, "print one JSON verdict per line (the summary goes to stderr)");
  rescore->add_option("--top", ro.top, "rules listed in the summary")->capture_default_str();
  rescore->add_option("-j,--threads", ro.threads, "threads scoring (0: every core); output stays in input order")
      ->capture_default_str();
  rescore->add_option("-o,--out", ro.out, "write the verdicts to FILE (JSON Lines, or CSV when it ends in .csv)");
  rescore->add_option("--out-format", ro.out_format, "auto, jsonl or csv")
      ->check(CLI::IsMember({"auto", "jsonl", "csv"}))
      ->capture_default_str();
  rescore->add_option("--report", ro.report, "write a self-contained HTML report to FILE");
  rescore->add_flag("--learn", ro.learn,
                    "teach the database each labeled comment's label, in input order on one thread, so that each "
                    "comment is scored with what was learned from those before it (else the database is only read)");
  rescore->add_flag("--by-date", ro.by_date,
                    "score in date order (every record is read first; an undated record takes the date of the one "
                    "before it; ties keep input order)");
  rescore->add_option("--window", ro.window,
                      "show the learning curve: recall and false positives per N comments (default with --learn: "
                      "100)");
  rescore->add_option("--warmup", ro.warmup,
                      "also sum up the comments after the first N (default with --learn: 200)");
  rescore->add_flag("--replay-limits", ro.replay_limits,
                    "apply the rate limits on the dump's own timestamps, in memory, in input order on one thread "
                    "(the database is not touched)");
  rescore->add_flag("--progress", force_progress, "draw the progress bar even when stderr is not a terminal");
  rescore->add_flag("--no-progress", no_progress, "never draw the progress bar");

  std::string label;
  std::vector<std::string> learn_files;
  auto* learn = app.add_subcommand("learn", "teach the database that comments are spam or ham");
  learn->add_option("label", label, "spam, ham, or forget (take back what learning the comments added)")
      ->required()
      ->check(CLI::IsMember({"spam", "ham", "forget"}));
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
    if (std::string(op) == "import")
      sub->add_option("list", list_which,
                      "allow or block (address lists); keywords (WordPress's Disallowed Comment Keys) or "
                      "link-patterns (the MT-Blacklist)")
          ->required()
          ->check(CLI::IsMember({"allow", "block", "keywords", "link-patterns"}));
    else
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
  std::string show_which = "all";
  size_t show_limit = 100;
  bool show_json = false;
  auto* show = list_cmd->add_subcommand("show", "show the newest entries");
  show->add_option("list", show_which, "allow, block or all")
      ->check(CLI::IsMember({"allow", "block", "all"}))
      ->capture_default_str();
  show->add_option("-n,--limit", show_limit, "entries shown")->capture_default_str()->check(CLI::PositiveNumber);
  std::string show_source;
  show->add_option("--source", show_source, "only the entries of this source (an import's name, admin, ratelimit)");
  show->add_flag("--json", show_json, "one JSON object per entry");

  ExportArgs ex;
  auto* export_cmd = list_cmd->add_subcommand(
      "export", "write the active block entries (lists, admin entries, rate-limit bans) for a firewall or web server");
  export_cmd->add_option("--format", ex.format, "plain, nft, ipset, iptables or htaccess")
      ->check(CLI::IsMember({"plain", "nft", "ipset", "iptables", "htaccess"}))
      ->capture_default_str();
  export_cmd->add_option("--name", ex.name, "the nft table, the ipset sets' prefix or the iptables chain")
      ->capture_default_str();
  export_cmd->add_option("--family", ex.family, "4 or 6 only (iptables needs one)")->check(CLI::IsMember({4, 6}));
  export_cmd->add_option("--ports", ex.ports,
                         "nft: the TCP ports the table's chain closes to listed addresses, or 'all' for all traffic")
      ->capture_default_str();
  export_cmd->add_option("-o,--output", ex.output,
                         "write to FILE, replaced in one step (a file beside it, renamed); default: standard output");
  export_cmd->add_option("--at", ex.at, "the moment exported, unix seconds (default: now)");

  auto* form_cmd = app.add_subcommand("form", "signed comment-form tokens");
  form_cmd->require_subcommand(1);
  std::string form_post;
  int64_t form_at = 0;
  bool form_html = false;
  auto* form_token = form_cmd->add_subcommand("token", "print a token for the comment form of a post");
  form_token->add_option("post_id", form_post, "the post the form is on")->required();
  form_token->add_option("--at", form_at, "when the form is shown, unix seconds (default: now)");
  form_token->add_flag("--html", form_html, "print the form's hidden fields (token and honeypot) as HTML");
  auto* form_rotate = form_cmd->add_subcommand(
      "rotate", "sign with a new secret from now on (tokens of the old one stay valid for form_max_seconds)");

  auto* rules_cmd = app.add_subcommand("rules", "check and try rules");
  rules_cmd->require_subcommand(1);
  bool list = false;
  bool rules_json = false;
  auto* lint = rules_cmd->add_subcommand("lint", "load a rule file (compiling every rule), report errors, count rules");
  lint->add_flag("-l,--list", list, "list every rule");
  lint->add_flag("--json", rules_json, "print the rules and warnings as JSON");
  std::string text;
  auto* test = rules_cmd->add_subcommand("test", "show which rules fire on a text (as a comment body), with matches");
  test->add_option("text", text, "the text")->required();
  test->add_flag("--json", rules_json, "print the verdict as JSON");

  std::string ip_addr;
  bool ip_json = false;
  auto* ip_cmd = app.add_subcommand("ip", "an address's standing: list entries, reputation and rate limits, and why");
  ip_cmd->add_option("address", ip_addr, "IPv4 or IPv6 address")->required();
  ip_cmd->add_flag("--json", ip_json, "print as JSON");

  bool prune_json = false;
  auto* prune = app.add_subcommand(
      "prune", "forget commenters' traces older than the rules' retention_days (learned comments, reputation, "
               "expired list entries) and spent rate-limit keys; run daily by the packaged timer");
  prune->add_flag("--json", prune_json, "print the counts as JSON");

  bool stats_json = false;
  auto* stats = app.add_subcommand("stats", "what the database holds: list entries, sources, reputation, learned comments");
  stats->add_flag("--json", stats_json, "print as JSON");

  std::string copy_from, copy_to;
  auto* db_cmd = app.add_subcommand("db", "move the state between stores");
  auto* db_copy = db_cmd->add_subcommand(
      "copy", "copy lists, reputation, learned comments, the learner, rate limits, form secrets and keyword lists "
              "from one store to another, empty one (SQLite file or redis://host:port/N, redis+unix:///socket)");
  db_copy->add_option("from", copy_from, "the store to read")->required();
  db_copy->add_option("to", copy_to, "the store to fill (must hold nothing yet)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (rules.empty()) rules = DefaultRules();
  if (const char* env = getenv("SPAMGUARD_DB"); g_database.empty() && env && *env) g_database = env;
  // A password in an address on the command line is seen by every user
  // (ps): said, not refused.
  for (const std::string* d : {&g_database, &copy_from, &copy_to}) {
    size_t scheme = d->find("://"), at = d->rfind('@');
    if (scheme != std::string::npos && at != std::string::npos && at > scheme &&
        d->find(':', scheme + 3) < at)
      fprintf(stderr, "spamguard: warning: a password in a database address is visible to every user of this "
                      "machine; put it in the rule file's redis_password_file instead\n");
  }

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
    if (!score_limits) g_ratelimit_mode = SG_RATELIMIT_OFF;
    if (score->count("--form-token") > 0) rec.has_form_token = true;
    return ScoreOne(rec, rules, score_json);
  }
  if (*rescore) {
    g_ratelimit_mode = ro.replay_limits ? SG_RATELIMIT_MEMORY : SG_RATELIMIT_OFF;
    g_read_only = !ro.learn;
    if (ro.learn && rescore->count("--window") == 0) ro.window = 100;
    if (ro.learn && rescore->count("--warmup") == 0) ro.warmup = 200;
    ro.rules = rules;
    ro.progress = no_progress ? 0 : force_progress ? 1 : -1;
    EnginePtr engine = ro.learn ? OpenWithState(rules) : OpenEngine(rules);
    if (!engine) return kExitFailed;
    return Rescore(engine.get(), ro);
  }
  if (*lint) {
    return Lint(rules, list, rules_json);
  }
  if (*ip_cmd) {
    g_read_only = true;
    return IpCommand(rules, ip_addr, ip_json);
  }
  if (*prune) return PruneCommand(rules, prune_json);
  if (*db_copy) return CopyCommand(rules, copy_from, copy_to);
  if (*stats) {
    g_read_only = true;
    return StatsCommand(rules, stats_json);
  }
  if (*show) {
    g_read_only = true;
    return ListShow(rules, show_which, show_source, show_limit, show_json);
  }
  if (*learn) return Learn(rules, label, rec, learn_files, format);
  if (*export_cmd) {
    g_read_only = true;
    g_ratelimit_mode = SG_RATELIMIT_OFF;
    EnginePtr engine = OpenWithState(rules);
    return engine ? ExportCommand(engine.get(), ex) : kExitFailed;
  }
  if (*form_token || *form_rotate) {
    g_ratelimit_mode = SG_RATELIMIT_OFF;
    EnginePtr engine = OpenEngine(rules);
    if (!engine) return kExitFailed;
    if (*form_rotate) {
      if (sg_engine_form_rotate(engine.get()) < 0) {
        fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
        return kExitFailed;
      }
      printf("a new form secret signs from now on\n");
      return 0;
    }
    char token[SG_FORM_TOKEN_SIZE];
    if (sg_engine_form_token(engine.get(), form_post.data(), form_post.size(), form_at, token, sizeof token) < 0) {
      fprintf(stderr, "spamguard: %s\n", Shown(sg_error_message()).c_str());
      return kExitFailed;
    }
    if (form_html) printf("%s", FormFieldsHtml(token).c_str());
    else printf("%s\n", token);
    return 0;
  }
  for (auto* op : list_ops)
    if (*op) return ListCommand(rules, op->get_name(), list_which, list_kind, list_entry, list_source, list_reason,
                                list_expires);
  if (*test) {
    sgcli::Record r;
    r.body = text;
    r.id = "text";
    g_ratelimit_mode = SG_RATELIMIT_OFF;  // trying rules never charges a live limit
    return ScoreOne(r, rules, rules_json);
  }
  return 2;
}
