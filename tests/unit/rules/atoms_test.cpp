// Rules matched through their atoms (atom_cache.h, util/literal_set.h): the
// literal matcher against a naive search, the atoms never skipping a rule
// that matches (every labeled comment scored both ways), and the cache file
// trusted only when it is whole and ours.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "comment/comment.h"
#include "rules/atom_cache.h"
#include "rules/ruleset.h"
#include "util/clause_words.h"
#include "util/literal_set.h"
#include "../test_util.h"

using namespace spamguard;
using namespace spamguard::rules;

namespace {

// The string fields of one flat JSON object per line (the corpora's shape).
std::vector<std::pair<std::string, std::string>> Fields(const std::string& line) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  auto str = [&](std::string* s) {
    s->clear();
    if (i >= line.size() || line[i] != '"') return false;
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      char c = line[i];
      if (c != '\\') {
        s->push_back(c);
        continue;
      }
      c = line[++i];
      if (c == 'n') s->push_back('\n');
      else if (c == 't') s->push_back('\t');
      else if (c == 'r') s->push_back('\r');
      else if (c == 'u') {
        unsigned v = unsigned(std::stoul(line.substr(i + 1, 4), nullptr, 16));
        i += 4;
        if (v >= 0xd800 && v < 0xdc00 && line.compare(i + 1, 2, "\\u") == 0) {
          unsigned lo = unsigned(std::stoul(line.substr(i + 3, 4), nullptr, 16));
          v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
          i += 6;
        }
        if (v < 0x80) s->push_back(char(v));
        else if (v < 0x800) *s += {char(0xc0 | (v >> 6)), char(0x80 | (v & 0x3f))};
        else if (v < 0x10000) *s += {char(0xe0 | (v >> 12)), char(0x80 | ((v >> 6) & 0x3f)), char(0x80 | (v & 0x3f))};
        else
          *s += {char(0xf0 | (v >> 18)), char(0x80 | ((v >> 12) & 0x3f)), char(0x80 | ((v >> 6) & 0x3f)),
                 char(0x80 | (v & 0x3f))};
      } else {
        s->push_back(c);
      }
    }
    ++i;
    return true;
  };
  std::string k, v;
  while (i < line.size()) {
    while (i < line.size() && line[i] != '"') ++i;
    if (!str(&k)) break;
    while (i < line.size() && (line[i] == ':' || line[i] == ' ')) ++i;
    if (i < line.size() && line[i] == '"') {
      str(&v);
      out.emplace_back(k, v);
    } else {
      while (i < line.size() && line[i] != ',' && line[i] != '}') ++i;
    }
  }
  return out;
}

std::vector<comment::Comment> Corpus(const std::string& path) {
  std::vector<comment::Comment> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    comment::Comment c;
    for (const auto& [k, v] : Fields(line)) {
      if (k == "body") c.fields[SG_FIELD_BODY] = v;
      else if (k == "author") c.fields[SG_FIELD_AUTHOR] = v;
      else if (k == "email") c.fields[SG_FIELD_EMAIL] = v;
      else if (k == "url") c.fields[SG_FIELD_URL] = v;
      else if (k == "ip") c.fields[SG_FIELD_IP] = v;
      else if (k == "user_agent") c.fields[SG_FIELD_USER_AGENT] = v;
      else if (k == "type" && v == "trackback") c.kind = comment::Kind::kTrackback;
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::unique_ptr<RuleSet> LoadRules(const std::string& text, const std::string& cache, uint64_t warm,
                                   int64_t max_mem = 32 << 20, Status* status = nullptr) {
  LoadOptions o;
  o.database = "none";
  o.warm_scores = warm;
  o.re2_max_mem = max_mem;
  o.lazy_compile = true;
  std::string cf = text + (cache.empty() ? "" : "\nrule_cache " + cache + "\n");
  std::unique_ptr<RuleSet> rs;
  std::vector<std::string> w;
  Status st = RuleSet::LoadString(cf, "t.cf", o, &rs, &w);
  if (status) *status = st;
  else BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  return rs;
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void Spit(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

std::string Hits(const RuleSet& rs, const comment::Comment& c) {
  comment::Normalized n;
  comment::Normalize(c, rs.settings().limits, &n);
  std::vector<Hit> hits;
  Status err;
  double score = rs.Evaluate(n, &hits, &err);
  std::string s = std::to_string(score) + (err.ok() ? "" : " ERROR " + err.message());
  for (const auto& h : hits) s += " " + rs.rules()[size_t(h.rule)].name + "='" + h.match + "'";
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(atoms)

BOOST_AUTO_TEST_CASE(literal_set_finds_every_occurrence_a_naive_search_finds) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    const int letters = 2 + int(rng() % 3);
    auto word = [&](size_t max) {
      std::string w(1 + rng() % max, 'a');
      for (auto& c : w) c = char('a' + int(rng() % unsigned(letters)));
      return w;
    };
    std::vector<std::string> lits;
    LiteralSet set;
    for (int i = 0; i < 1 + int(rng() % 30); ++i) {
      lits.push_back(word(6));
      set.Add(lits.back(), uint32_t(i));
    }
    set.Build();
    const std::string text = word(200);
    std::vector<int> want(lits.size()), got(lits.size());
    for (size_t i = 0; i < lits.size(); ++i)
      for (size_t at = text.find(lits[i]); at != std::string::npos; at = text.find(lits[i], at + 1)) ++want[i];
    set.Scan(text, [&](uint32_t v) { ++got[v]; });
    BOOST_TEST(want == got, "round " << round << " text " << text);
  }
  LiteralSet none;
  none.Build();
  int calls = 0;
  none.Scan("anything", [&](uint32_t) { ++calls; });
  BOOST_TEST(calls == 0);
}

BOOST_AUTO_TEST_CASE(fold_case_lowers_both_sides_alike) {
  std::string out;
  FoldCase("CASINO Ünïcode ÀÉ \xE2\x84\xAA" "elvin \xC5\xBF" "ale ПРИВЕТ ΑΒΓ \xff\xfe", &out);
  BOOST_TEST(out == "casino ünïcode àé kelvin sale привет αβγ \xff\xfe");
}

BOOST_AUTO_TEST_CASE(atoms_and_their_clauses) {
  RE2::Options o;
  o.set_log_errors(false);
  Atoms a;
  std::string error;
  BOOST_REQUIRE(ComputeAtoms("(?i)online\\s+(casino|poker)", o, &a, &error));
  BOOST_TEST(a.filtered);
  BOOST_TEST(a.clauses.size() == 2u);  // {online} and {casino, poker}
  BOOST_REQUIRE(ComputeAtoms("^.{0,3}$", o, &a, &error));
  BOOST_TEST(!a.filtered);
  BOOST_REQUIRE(ComputeAtoms("(?i)\\bσ\\w+", o, &a, &error));  // (sigma has three forms: run always)
  BOOST_TEST(!a.filtered);
  BOOST_TEST(!ComputeAtoms("(unclosed", o, &a, &error));
  BOOST_TEST(error.find("missing )") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(a_pattern_splits_at_its_top_alternation_only_where_it_may) {
  auto split = [](const std::string& p) {
    std::vector<std::string> b;
    SplitAlternation(p, &b);
    std::string s;
    for (const auto& x : b) s += (s.empty() ? "" : " ; ") + x;
    return s;
  };
  // The outermost group with the most branches; leading flags stay in front.
  BOOST_TEST(split("(?i)\\b(?:great\\s+post|thanks\\s+for)\\b") ==
             "(?i)\\b(?:great\\s+post)\\b ; (?i)\\b(?:thanks\\s+for)\\b");
  BOOST_TEST(split("a|b(c|d)") == "(?:a) ; (?:b(c|d))");
  BOOST_TEST(split("(?i)a|b") == "(?i)(?:a) ; (?i)(?:b)");
  BOOST_TEST(split("x(a|b)y(c|d|e)z") == "x(a|b)y(c)z ; x(a|b)y(d)z ; x(a|b)y(e)z");
  BOOST_TEST(split("(?P<n>a|b)c") == "(?P<n>a)c ; (?P<n>b)c");
  BOOST_TEST(split("(?s:a|b)c") == "(?s:a)c ; (?s:b)c");
  // A '|' or '(' that is a literal, in a class or escaped, splits nothing.
  BOOST_TEST(split("[|(]x(a|b)") == "[|(]x(a) ; [|(]x(b)");
  BOOST_TEST(split("[]|]x") == "");
  BOOST_TEST(split("[^]|[:alpha:]]\\|x") == "");
  BOOST_TEST(split("\\(a\\|b\\)") == "");
  // Not split: a repeated group, a flag group inside (it reaches the
  // branches after it), \Q...\E, an unbalanced pattern, no alternation.
  BOOST_TEST(split("(?:a|b)+c") == "");
  BOOST_TEST(split("(?:a|b){2}") == "");
  BOOST_TEST(split("(?:(?i)a|b)") == "");
  BOOST_TEST(split("x(?i)(?:a|b)") == "");
  BOOST_TEST(split("\\Qa|b\\E") == "");
  BOOST_TEST(split("(a|b") == "");
  BOOST_TEST(split("a)|b") == "");
  BOOST_TEST(split("[a|b") == "");
  BOOST_TEST(split("abc") == "");
  // Every default pattern that splits: on every labeled comment, it matches
  // exactly when one of its branches does.
  RE2::Options o;
  o.set_log_errors(false);
  std::vector<std::pair<std::unique_ptr<RE2>, std::vector<std::unique_ptr<RE2>>>> rules;
  std::istringstream cf(Slurp(SG_SOURCE_DIR "/data/spamguard.cf"));
  std::string line;
  while (std::getline(cf, line)) {
    if (line.rfind("body ", 0) != 0) continue;
    const size_t a = line.find('/'), z = line.rfind('/');
    if (a == std::string::npos || z <= a) continue;
    const std::string p = (line.substr(z + 1).find('i') != std::string::npos ? "(?i)" : "") + line.substr(a + 1, z - a - 1);
    std::vector<std::string> parts;
    if (!SplitAlternation(p, &parts)) continue;
    rules.emplace_back(std::make_unique<RE2>(p, o), std::vector<std::unique_ptr<RE2>>{});
    BOOST_REQUIRE(rules.back().first->ok());
    for (const auto& part : parts) {
      rules.back().second.push_back(std::make_unique<RE2>(part, o));
      BOOST_REQUIRE_MESSAGE(rules.back().second.back()->ok(), part);
    }
  }
  BOOST_TEST(rules.size() > 20u);
  size_t matched = 0;
  for (const char* f : {"/tests/corpora/youtube/comments.jsonl", "/tests/corpora/wordpress-spam/comments.jsonl"})
    for (const auto& c : Corpus(std::string(SG_SOURCE_DIR) + f))
      for (const auto& [whole, parts] : rules) {
        const std::string& body = c.fields[SG_FIELD_BODY];
        const bool w = RE2::PartialMatch(body, *whole);
        bool any = false;
        for (const auto& r : parts) any = any || RE2::PartialMatch(body, *r);
        matched += w;
        if (w != any) BOOST_TEST(w == any, whole->pattern() << " on: " << body.substr(0, 120));
      }
  BOOST_TEST(matched > 500u);
}

// Split at its top alternation, a pattern needs the atoms of one branch,
// not one atom of each branch; the clauses of a part that counts only once
// the essential atoms are there are found too.
BOOST_AUTO_TEST_CASE(each_branch_of_an_alternation_filters_on_its_own) {
  RE2::Options o;
  o.set_log_errors(false);
  const std::string p =
      "(?i)\\b(?:great\\s+(?:post|article)|thanks\\s+for\\s+(?:sharing|(?:this|the)\\s+(?:\\w+\\s+)?post))\\b";
  Atoms one, two;
  std::string error;
  BOOST_REQUIRE(ComputeAtoms(p, o, &one, &error));
  BOOST_REQUIRE(ComputeAtoms(p, o, &two, &error, /*split_branches=*/true));
  BOOST_TEST(one.branches.empty());
  BOOST_TEST(two.branches.size() == 3u);  // (the whole pattern's clauses, then each branch's)
  // What each filter lets through, as the rule cache's words say it.
  auto passes = [](const Atoms& a, const std::string& text) {
    std::vector<uint32_t> slot(a.atoms.size()), words;
    for (size_t k = 0; k < slot.size(); ++k) slot[k] = uint32_t(k);
    words.push_back(a.branches.empty() ? 1 : uint32_t(a.branches.size()));
    size_t from = 0;
    for (size_t m : a.branches.empty() ? std::vector<size_t>{a.clauses.size()}
                                       : std::vector<size_t>(a.branches.begin(), a.branches.end())) {
      AppendClauseWords(a.clauses, from, from + m, slot, &words);
      from += m;
    }
    uint32_t branches = 0;
    BOOST_REQUIRE(CheckClauseWords(words.data(), 0, words.size(), slot.size(), 64, &branches));
    std::string folded;
    FoldCase(text, &folded);
    std::vector<uint32_t> present;
    for (size_t k = 0; k < a.atoms.size(); ++k)
      if (folded.find(a.atoms[k]) != std::string::npos) present.push_back(uint32_t(k));
    return BranchesHold(words.data(), present);
  };
  for (const char* t : {"Great post!", "thanks for sharing", "Thanks for the great post", "great article"}) {
    BOOST_TEST(RE2::PartialMatch(t, RE2(p, o)), t);
    BOOST_TEST(passes(one, t), t);
    BOOST_TEST(passes(two, t), t);
  }
  // Atoms of both branches, neither branch whole: refused. ("thanks for
  // the fix" holds {thanks}, {for} and {sharing, this, the}: the clause
  // {sharing, post}, found from the essential atoms, refuses it.)
  for (const char* t : {"great, thanks for the fix", "thanks for the fix", "the article, thanks"}) {
    BOOST_TEST(!RE2::PartialMatch(t, RE2(p, o)), t);
    BOOST_TEST(!passes(two, t), t);
  }
  // Cached and read back: the same branches.
  sgtest::TempDir d;
  const std::string rules = "body P /" + p.substr(4) + "/i\n";
  auto first = LoadRules(rules, d.File("rc"), uint64_t(-1));
  auto again = LoadRules(rules, d.File("rc"), uint64_t(-1));
  BOOST_TEST(first->prefilter().computed == 1u);
  BOOST_TEST(again->prefilter().from_cache == 1u);
  for (const char* t : {"great, thanks for the fix", "thanks for the post", "nothing"}) {
    comment::Comment c;
    c.fields[SG_FIELD_BODY] = t;
    BOOST_TEST(Hits(*again, c) == Hits(*first, c), t);
  }
}

// A rule split at its alternation runs only the branches whose clauses
// hold, each its own program; what it reports matched is what the whole
// pattern matches: the leftmost match, the first branch at that place.
BOOST_AUTO_TEST_CASE(branches_run_alone_and_report_what_the_whole_pattern_matches) {
  sgtest::TempDir d;
  const std::string rules =
      "body FIRST /\\b(?:abx|abxyz|zzq)/\n"          // a tie: the first alternative wins
      "body LEFT /\\b(?:foo\\s+bar|qux\\s+baz)\\b/i\n"  // the leftmost match, whichever branch
      "body LOOSE /\\w+(?:cat|dog)s/\n";            // a choice before the alternation: run whole
  auto by_atoms = LoadRules(rules, d.File("rc"), uint64_t(-1));
  auto by_sets = LoadRules(rules, "", 0);
  const auto& r = by_atoms->rules();
  BOOST_REQUIRE(r.size() == 3u);
  BOOST_REQUIRE(r[0].branches && r[1].branches && r[2].branches);
  BOOST_TEST(r[0].branches->Get(*r[0].re)->size() == 3u);
  BOOST_TEST(r[1].branches->Get(*r[1].re)->size() == 2u);
  BOOST_TEST(r[2].branches->Get(*r[2].re) == nullptr);
  for (const char* t : {"abxyz", "zzq abxyz", "xx abx zzq", "QUX BAZ then foo bar", "foo bar, qux baz", "foo qux",
                        "hotdogs and bobcats", "cats", "nothing here"}) {
    comment::Comment c;
    c.fields[SG_FIELD_BODY] = t;
    BOOST_TEST(Hits(*by_atoms, c) == Hits(*by_sets, c), t);
  }
  comment::Comment c;
  c.fields[SG_FIELD_BODY] = "zzq abxyz and QUX BAZ then foo bar";
  BOOST_TEST(Hits(*by_atoms, c).find("FIRST='zzq'") != std::string::npos, Hits(*by_atoms, c));
  BOOST_TEST(Hits(*by_atoms, c).find("LEFT='QUX BAZ'") != std::string::npos, Hits(*by_atoms, c));
  c.fields[SG_FIELD_BODY] = "abxyz";
  BOOST_TEST(Hits(*by_atoms, c).find("FIRST='abx'") != std::string::npos, Hits(*by_atoms, c));
}

// A silent building block whose atoms hold runs (and compiles) only when a
// meta's value depends on it: `__LOOSE && !DRUG` is false once DRUG fired.
BOOST_AUTO_TEST_CASE(a_building_block_runs_only_when_a_meta_needs_it) {
  sgtest::TempDir d;
  const std::string rules =
      "body __LOOSE /(?i)\\bv[i1!|][a@4]gr[a@4]\\b/\nbody DRUG /(?i)\\bviagra\\b/\nscore DRUG 3\n"
      "meta OBFUSCATED __LOOSE && !DRUG\nscore OBFUSCATED 2\n";
  auto rs = LoadRules(rules, d.File("rc"), uint64_t(-1));
  BOOST_REQUIRE(rs->rules()[0].name == "__LOOSE");
  BOOST_REQUIRE(rs->rules()[0].filtered);  // (its atom "gr" makes it a candidate)
  comment::Comment c;
  c.fields[SG_FIELD_BODY] = "buy viagra now";
  const std::string plain = Hits(*rs, c);
  BOOST_TEST(plain.find("DRUG='viagra'") != std::string::npos, plain);
  BOOST_TEST(plain.find("OBFUSCATED") == std::string::npos, plain);
  BOOST_TEST(!rs->rules()[0].re->compiled());  // (decided without it: never compiled)
  c.fields[SG_FIELD_BODY] = "buy v1agra now";
  const std::string tricked = Hits(*rs, c);
  BOOST_TEST(tricked.find("OBFUSCATED='__LOOSE 'v1agra''") != std::string::npos, tricked);
  BOOST_TEST(rs->rules()[0].re->compiled());
  // A meta that fires shows every rule it uses that fired, as if all had
  // run: the building block runs then, though DRUG alone decided it.
  auto either = LoadRules(rules + "meta EITHER DRUG || __LOOSE\nscore EITHER 0.5\n", d.File("rc"), uint64_t(-1));
  c.fields[SG_FIELD_BODY] = "buy viagra now";
  const std::string both = Hits(*either, c);
  BOOST_TEST(both.find("EITHER='DRUG + __LOOSE 'viagra''") != std::string::npos, both);
  BOOST_TEST(either->rules()[0].re->compiled());
}

// A match left for when it is read (Evaluate's defer_matches, as the
// engine scores) is what Evaluate finds at once, on every labeled comment.
BOOST_AUTO_TEST_CASE(matches_found_when_read_are_those_found_at_once) {
  sgtest::TempDir d;
  const std::string rules = Slurp(SG_SOURCE_DIR "/data/spamguard.cf");
  // Each field's whole set, and the atoms (a process's first comments),
  // where a rule split at its alternation remembers its branches that
  // matched.
  for (const bool atoms : {false, true}) {
  auto rs = atoms ? LoadRules(rules, d.File("rc"), uint64_t(-1)) : LoadRules(rules, "", 0);
  size_t n = 0, deferred = 0, through_branches = 0, differ = 0;
  for (const char* f : {"/tests/corpora/youtube/comments.jsonl", "/tests/corpora/wordpress-spam/comments.jsonl"}) {
    for (const auto& c : Corpus(std::string(SG_SOURCE_DIR) + f)) {
      comment::Normalized norm;
      comment::Normalize(c, rs->settings().limits, &norm);
      std::vector<Hit> now, later;
      const double a = rs->Evaluate(norm, &now), b = rs->Evaluate(norm, &later, nullptr, /*defer_matches=*/true);
      BOOST_TEST(a == b);
      BOOST_REQUIRE(now.size() == later.size());
      for (size_t i = 0; i < now.size(); ++i) {
        BOOST_TEST(now[i].rule == later[i].rule);
        std::string m = later[i].match;
        if (later[i].match_in.data() != nullptr) {
          BOOST_TEST(m.empty());
          ++deferred;
          through_branches += later[i].branches != 0;
          // (a copy of the text: as the verdict keeps it)
          rs->MatchIn(later[i].rule, std::string(later[i].match_in), &m, later[i].branches);
        }
        if (m != now[i].match && ++differ <= 5)
          BOOST_TEST(m == now[i].match, (atoms ? "atoms: " : "sets: ") << c.fields[SG_FIELD_BODY].substr(0, 80));
      }
      ++n;
    }
  }
  BOOST_TEST(n > 4000u);
  BOOST_TEST(deferred > 1000u);
  BOOST_TEST((through_branches > 100u) == atoms, through_branches);
  BOOST_TEST(differ == 0u);
  }
}

// The default rules, scored through their atoms and through each field's
// whole set, give the same hits and matches on every labeled comment.
BOOST_AUTO_TEST_CASE(atoms_never_skip_a_rule_that_matches) {
  sgtest::TempDir d;
  const std::string rules = Slurp(SG_SOURCE_DIR "/data/spamguard.cf");
  auto by_atoms = LoadRules(rules, d.File("rc"), uint64_t(-1));
  auto by_sets = LoadRules(rules, "", 0);
  BOOST_TEST(by_atoms->prefilter().filtered > 50u);
  BOOST_TEST(by_atoms->prefilter().computed > 50u);
  BOOST_TEST(by_atoms->prefilter().cache_written);
  size_t n = 0, differ = 0;
  for (const char* f : {"/tests/corpora/youtube/comments.jsonl", "/tests/corpora/wordpress-spam/comments.jsonl",
                        "/tests/fixtures/blog_ham.jsonl", "/tests/fixtures/reader_ham.jsonl",
                        "/data/samples/comments.jsonl"}) {
    for (const auto& c : Corpus(std::string(SG_SOURCE_DIR) + f)) {
      ++n;
      std::string a = Hits(*by_atoms, c), b = Hits(*by_sets, c);
      if (a != b && ++differ <= 5) BOOST_TEST(a == b, f << ": " << c.fields[SG_FIELD_BODY].substr(0, 80) << "\n" << a << "\n" << b);
    }
  }
  BOOST_TEST(n > 4000u);
  BOOST_TEST(differ == 0u);
  BOOST_TEST(by_atoms->prefilter().automata_built > 5u);
  BOOST_TEST(by_atoms->prefilter().automata_from_cache == 0u);
  // Read back from the cache: nothing computed, nothing built (each field's
  // automaton read where it lies in the file), the same verdicts.
  auto cached = LoadRules(rules, d.File("rc"), uint64_t(-1));
  BOOST_TEST(cached->prefilter().computed == 0u);
  BOOST_TEST(cached->prefilter().from_cache == by_atoms->prefilter().from_cache + by_atoms->prefilter().computed);
  BOOST_TEST(cached->prefilter().automata_built == 0u);
  BOOST_TEST(cached->prefilter().automata_from_cache == by_atoms->prefilter().automata_built);
  // Each field's layout too: no atom is decoded, nothing is grouped again.
  BOOST_TEST(by_atoms->prefilter().layouts_built > 5u);
  BOOST_TEST(cached->prefilter().layouts_built == 0u);
  BOOST_TEST(cached->prefilter().layouts_from_cache == by_atoms->prefilter().layouts_built);
  BOOST_TEST(cached->prefilter().atoms == by_atoms->prefilter().atoms);
  BOOST_TEST(cached->prefilter().filtered == by_atoms->prefilter().filtered);
  differ = 0;
  for (const char* f : {"/tests/corpora/youtube/comments.jsonl", "/tests/corpora/wordpress-spam/comments.jsonl"})
    for (const auto& c : Corpus(std::string(SG_SOURCE_DIR) + f)) {
      std::string a = Hits(*cached, c), b = Hits(*by_sets, c);
      if (a != b && ++differ <= 5) BOOST_TEST(a == b, f << ": " << c.fields[SG_FIELD_BODY].substr(0, 80));
    }
  BOOST_TEST(differ == 0u);
}

// /^$/ and /./ are decided without RE2 on the atoms' path; they fire
// exactly where RE2 (the sets' path) fires them, with the same text.
BOOST_AUTO_TEST_CASE(empty_and_any_character_patterns_match_as_re2_does) {
  sgtest::TempDir d;
  const std::string rules = "title T /^$/\nauthor A /./\nurl U /./\nbody B /^$/\nbody C /./\n";
  auto by_atoms = LoadRules(rules, d.File("rc"), uint64_t(-1));
  auto by_sets = LoadRules(rules, "", 0);
  for (const char* v : {"", "\n", "\n\n", "x", "\nx", "\n\xc3\xbc!", "\xe2\x82\xac", "a\nb"}) {
    comment::Comment c;
    c.fields[SG_FIELD_TITLE] = v;
    c.fields[SG_FIELD_AUTHOR] = v;
    c.fields[SG_FIELD_URL] = v;
    c.fields[SG_FIELD_BODY] = v;
    BOOST_TEST(Hits(*by_atoms, c) == Hits(*by_sets, c), "value '" << v << "'");
  }
}

BOOST_AUTO_TEST_CASE(a_cache_file_is_used_only_whole_and_ours) {
  sgtest::TempDir d;
  const std::string rules = "body A /(?i)cheap\\s+(pills|meds)/\nbody B /(?i)casino/\nauthor C /^.{0,2}$/\n";
  const std::string path = d.File("rc");
  auto first = LoadRules(rules, path, uint64_t(-1));
  BOOST_TEST(first->prefilter().computed == 3u);
  BOOST_REQUIRE(first->prefilter().cache_written);
  struct stat sb;
  BOOST_REQUIRE(::stat(path.c_str(), &sb) == 0);
  BOOST_TEST((sb.st_mode & 0777) == 0644u);
  BOOST_TEST(LoadRules(rules, path, uint64_t(-1))->prefilter().computed == 0u);
  const std::string good = Slurp(path);

  auto computed_after = [&](const std::string& data) {
    Spit(path, data);
    ::chmod(path.c_str(), 0644);
    auto rs = LoadRules(rules, path, uint64_t(-1));
    comment::Comment c;
    c.fields[SG_FIELD_BODY] = "CHEAP  Pills here";
    BOOST_TEST(Hits(*rs, c).find("A='CHEAP Pills'") != std::string::npos, Hits(*rs, c));
    return rs->prefilter().computed;
  };
  BOOST_TEST(computed_after(good.substr(0, good.size() / 2)) == 3u);  // truncated
  BOOST_TEST(computed_after(good) == 0u);
  std::string flipped = good;
  flipped[20] = char(flipped[20] ^ 1);
  BOOST_TEST(computed_after(flipped) == 3u);  // checksum
  flipped = good;
  flipped[good.size() - 40] = char(flipped[good.size() - 40] ^ 0x10);  // in the automata
  BOOST_TEST(computed_after(flipped) == 3u);
  std::string other = good;
  other[7] = '9';
  BOOST_TEST(computed_after(other) == 3u);  // another format version
  BOOST_TEST(computed_after("") == 3u);
  BOOST_TEST(computed_after(std::string(100000, '\0')) == 3u);
  // Rewritten whole each time it missed.
  BOOST_TEST(Slurp(path) == good);
  // An entry that does not decode, in a file whose checksum holds (made so
  // on purpose): a field whose layout must be built again (a rule added)
  // finds the rule's atoms again instead of trusting or failing on it.
  {
    std::string bad = good;
    // (magic 8, count 4, the first entry's key 8 and length 4: rule A's
    // entry, whose atom count now runs past its bytes.)
    bad[25] = bad[26] = char(0xff);
    const uint64_t sum = AtomCache::FileChecksum(bad.data(), bad.size() - 8);
    for (int i = 0; i < 8; ++i) bad[bad.size() - 8 + size_t(i)] = char((sum >> (8 * i)) & 0xff);
    Spit(path, bad);
    ::chmod(path.c_str(), 0644);
    const std::string more = rules + "body D /(?i)lottery/\n";
    auto rs = LoadRules(more, path, uint64_t(-1));
    BOOST_TEST(rs->prefilter().computed == 1u);  // (D; A's atoms found again while building the layout)
    comment::Comment c;
    c.fields[SG_FIELD_BODY] = "CHEAP  Pills and a lottery";
    BOOST_TEST(Hits(*rs, c).find("A='CHEAP Pills'") != std::string::npos, Hits(*rs, c));
    BOOST_TEST(Hits(*rs, c).find("D='lottery'") != std::string::npos, Hits(*rs, c));
    // The file was written again, A's entry whole.
    auto again = LoadRules(more, path, uint64_t(-1));
    BOOST_TEST(again->prefilter().computed == 0u);
    BOOST_TEST(Slurp(path).substr(24, 3) == good.substr(24, 3));
    Spit(path, good);
    ::chmod(path.c_str(), 0644);
  }

  // Writable by others, or a link: not read (and replaced).
  BOOST_REQUIRE(::chmod(path.c_str(), 0666) == 0);
  BOOST_TEST(LoadRules(rules, path, uint64_t(-1))->prefilter().computed == 3u);
  BOOST_REQUIRE(::stat(path.c_str(), &sb) == 0);
  BOOST_TEST((sb.st_mode & 0777) == 0644u);
  const std::string link = d.File("link");
  BOOST_REQUIRE(::symlink(path.c_str(), link.c_str()) == 0);
  BOOST_TEST(LoadRules(rules, link, uint64_t(-1))->prefilter().computed == 3u);
  if (geteuid() == 0) {  // another user's file
    BOOST_REQUIRE(::chown(path.c_str(), 65534, 65534) == 0);
    BOOST_TEST(LoadRules(rules, path, uint64_t(-1))->prefilter().computed == 3u);
  }
  // A changed pattern is computed; the others still come from the file.
  auto changed = LoadRules("body A /(?i)cheap\\s+(pills|meds|drugs)/\nbody B /(?i)casino/\nauthor C /^.{0,2}$/\n", path,
                           uint64_t(-1));
  BOOST_TEST(changed->prefilter().computed == 1u);
  BOOST_TEST(changed->prefilter().from_cache == 2u);
  // A folder it cannot write: the rules still load, nothing is cached.
  auto unwritable = LoadRules(rules, "/nonexistent/folder/rc", uint64_t(-1));
  BOOST_TEST(!unwritable->prefilter().cache_written);
  BOOST_TEST(unwritable->prefilter().filtered == 2u);
}

// Rules whose sets exceed the RE2 budget together, though each compiles:
// without atoms they are refused; with them, matched through the atoms.
BOOST_AUTO_TEST_CASE(a_set_over_its_budget_is_matched_by_atoms_not_slowly) {
  std::string rules;
  for (int i = 0; i < 2000; ++i)
    rules += "body K" + std::to_string(i) + " /\\bword" + std::to_string(i) + "x[a-z]{1,20}\\b/\n";
  Status st;
  LoadRules(rules, "", 0, 1 << 20, &st);  // (lazy: loads, refused when first used)
  auto lazy = LoadRules(rules, "", 0, 1 << 20);
  comment::Comment c;
  c.fields[SG_FIELD_BODY] = "a word17xabc here and word1999xyz";
  BOOST_TEST(Hits(*lazy, c).find("ERROR") != std::string::npos, Hits(*lazy, c));
  sgtest::TempDir d;
  for (uint64_t warm : {uint64_t(0), uint64_t(-1)}) {
    auto rs = LoadRules(rules, d.File("rc"), warm, 1 << 20);
    BOOST_TEST(Hits(*rs, c) == "2.000000 K17='word17xabc' K1999='word1999xyz'");
  }
}

// An empty field's set result is matched once and reused: a rule that
// matches an empty text fires on every empty field, before and after the
// engine is warm, and one that needs a character never does.
BOOST_AUTO_TEST_CASE(empty_fields_fire_what_an_empty_text_matches) {
  auto rs = LoadRules("author NO_AUTHOR /^$/\nauthor ANY_AUTHOR /./\nauthor OPT_AUTHOR /x*/\n"
                      "email NO_EMAIL /^\\s*$/\nbody SOMETHING /b/\n",
                      "", 2);
  comment::Comment empty, named;
  empty.fields[SG_FIELD_BODY] = "b";
  named.fields[SG_FIELD_BODY] = "b";
  named.fields[SG_FIELD_AUTHOR] = "Ann";
  named.fields[SG_FIELD_EMAIL] = "ann@example.org";
  const std::string want_empty = Hits(*rs, empty), want_named = Hits(*rs, named);
  BOOST_TEST(want_empty.find("NO_AUTHOR=''") != std::string::npos, want_empty);
  BOOST_TEST(want_empty.find("OPT_AUTHOR=''") != std::string::npos, want_empty);
  BOOST_TEST(want_empty.find("NO_EMAIL=''") != std::string::npos, want_empty);
  BOOST_TEST(want_empty.find("ANY_AUTHOR") == std::string::npos, want_empty);
  BOOST_TEST(want_named.find("ANY_AUTHOR='A'") != std::string::npos, want_named);
  BOOST_TEST(want_named.find("NO_AUTHOR") == std::string::npos, want_named);
  BOOST_TEST(want_named.find("NO_EMAIL") == std::string::npos, want_named);
  for (int i = 0; i < 10; ++i) {  // warm: each field's whole set, the empty result reused
    BOOST_TEST(Hits(*rs, empty) == want_empty);
    BOOST_TEST(Hits(*rs, named) == want_named);
  }
}

BOOST_AUTO_TEST_SUITE_END()
