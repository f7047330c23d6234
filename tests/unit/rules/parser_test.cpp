#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "comment/comment.h"
#include "rules/ruleset.h"
#include "../test_util.h"

using namespace spamguard;
using namespace spamguard::rules;

namespace {

Status Load(const std::string& text, std::unique_ptr<RuleSet>* out = nullptr, bool strict = true,
            std::vector<std::string>* warnings = nullptr) {
  std::unique_ptr<RuleSet> rs;
  std::vector<std::string> w;
  LoadOptions o;
  o.strict = strict;
  Status st = RuleSet::LoadString(text, "t.cf", o, out ? out : &rs, warnings ? warnings : &w);
  return st;
}

void ExpectError(const std::string& text, int code, const std::string& where, const std::string& reason) {
  Status st = Load(text);
  BOOST_TEST_CONTEXT(text) {
    BOOST_TEST(!st.ok());
    BOOST_TEST(st.code() == code);
    BOOST_TEST(st.message().rfind(where, 0) == 0u, st.message());
    BOOST_TEST(st.message().find(reason) != std::string::npos, st.message());
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rules)

BOOST_AUTO_TEST_CASE(valid_file_loads_every_kind_of_rule) {
  std::unique_ptr<RuleSet> rs;
  Status st = Load(
      "# comment\n"
      "required_score 6\nmoderate_score 2\ndiscard_score 20\n"
      "max_body_bytes 1000\nmax_field_bytes 100\nmax_links 10\n"
      "body A /viagra/i\n"
      "uri B m{^https?://bit\\.ly/}i  # trailing comment\n"
      "links C > 3\n"
      "check D invalid_utf8\n"
      "meta E (A + B + C) >= 2 && !D\n"
      "score A 2.5\ndescribe A Pharmacy words\n"
      "author __X /^$/\n",
      &rs);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  BOOST_TEST(rs->rules().size() == 6u);
  BOOST_TEST(rs->settings().required_score == 6.0);
  BOOST_TEST(rs->settings().moderate_score == 2.0);
  BOOST_TEST(rs->settings().discard_score == 20.0);
  BOOST_TEST(rs->settings().limits.max_body_bytes == 1000u);
  BOOST_TEST(rs->settings().limits.max_links == 10u);
  BOOST_TEST(rs->rules()[0].score == 2.5);
  BOOST_TEST(rs->rules()[0].description == "Pharmacy words");
  BOOST_TEST(rs->rules()[1].score == 1.0);  // default
  BOOST_TEST(rs->rules()[5].Silent());
}

BOOST_AUTO_TEST_CASE(unknown_directive) { ExpectError("body A /x/\nbogus A 1\n", SG_EPARSE, "t.cf:2:", "unknown directive 'bogus'"); }

BOOST_AUTO_TEST_CASE(bad_regex_names_re2_reason) {
  ExpectError("body A /x/\nbody B /(unclosed/\n", SG_ERULE, "t.cf:2:", "rule B: bad regex: missing )");
  ExpectError("body B /a{2,1}/\n", SG_ERULE, "t.cf:1:", "bad regex");
}

BOOST_AUTO_TEST_CASE(perl_only_constructs_are_named) {
  struct Case {
    const char* rule;
    const char* name;
  } cases[] = {
      {"body B /(a)\\1/", "backreference \\1"},
      {"body B /foo(?=bar)/", "look-ahead"},
      {"body B /foo(?!bar)/", "negative look-ahead"},
      {"body B /(?<=foo)bar/", "look-behind"},
      {"body B /(?<!foo)bar/", "negative look-behind"},
      {"body B /(?>atomic)/", "atomic group"},
      {"body B /a++/", "possessive quantifier"},
      {"body B /(?<n>x)\\k<n>/", "backreference \\k"},
      {"body B /(a|b(?R))/", "recursion"},
  };
  for (const auto& c : cases) ExpectError(std::string(c.rule) + "\n", SG_ERULE, "t.cf:1: rule B:", c.name);
  ExpectError("body B /(a)\\1/\n", SG_ERULE, "t.cf:1:", "Perl-only construct that RE2 cannot run");
  // An escaped digit inside a class or an escaped paren is not Perl-only.
  BOOST_TEST(Load("body B /\\(?=x\\)/\n").ok());
}

BOOST_AUTO_TEST_CASE(pattern_syntax_errors) {
  ExpectError("body B viagra\n", SG_ERULE, "t.cf:1:", "pattern must be written /regex/flags");
  ExpectError("body B /viagra\n", SG_ERULE, "t.cf:1:", "no closing '/'");
  ExpectError("body B /x/q\n", SG_ERULE, "t.cf:1:", "unknown flag 'q'");
  ExpectError("body B /x y/x\n", SG_ERULE, "t.cf:1:", "flag 'x'");
  ExpectError("body B /x/ junk\n", SG_ERULE, "t.cf:1:", "unexpected text after the pattern");
  ExpectError("body B //\n", SG_ERULE, "t.cf:1:", "empty pattern");
  ExpectError("body 9B /x/\n", SG_EPARSE, "t.cf:1:", "invalid rule name");
}

BOOST_AUTO_TEST_CASE(unknown_rule_in_meta) {
  ExpectError("body A /x/\nmeta M A && NOPE\n", SG_ERULE, "t.cf:2:", "meta uses unknown rule 'NOPE'");
}

BOOST_AUTO_TEST_CASE(meta_syntax_and_cycles) {
  ExpectError("body A /x/\nmeta M A &&\n", SG_ERULE, "t.cf:2:", "expression ends too early");
  ExpectError("body A /x/\nmeta M (A\n", SG_ERULE, "t.cf:2:", "missing ')'");
  ExpectError("body A /x/\nmeta M A $ A\n", SG_ERULE, "t.cf:2:", "unexpected");
  ExpectError("meta M N\nmeta N M\n", SG_ERULE, "t.cf:", "cycle");
  ExpectError("meta M M\n", SG_ERULE, "t.cf:1:", "cycle");
}

BOOST_AUTO_TEST_CASE(duplicate_rule) {
  ExpectError("body A /x/\nuri A /y/\n", SG_ERULE, "t.cf:2:", "duplicate rule (first defined at t.cf:1)");
}

BOOST_AUTO_TEST_CASE(score_and_describe_for_no_rule) {
  ExpectError("body A /x/\nscore B 2\n", SG_EPARSE, "t.cf:2:", "score for unknown rule 'B'");
  ExpectError("describe B text\n", SG_EPARSE, "t.cf:1:", "describe for unknown rule 'B'");
  ExpectError("body A /x/\nscore A two\n", SG_EPARSE, "t.cf:2:", "expected one number");
  ExpectError("body A /x/\nscore A 1 2 3 4\n", SG_EPARSE, "t.cf:2:", "expected one number");
}

BOOST_AUTO_TEST_CASE(settings_errors) {
  ExpectError("required_score abc\n", SG_EPARSE, "t.cf:1:", "required_score: expected a number");
  ExpectError("max_links 0\n", SG_EPARSE, "t.cf:1:", "max_links: expected a whole number");
  ExpectError("max_body_bytes 99999999999\n", SG_EPARSE, "t.cf:1:", "max_body_bytes");
  ExpectError("required_score 2\nmoderate_score 3\n", SG_EPARSE, "", "moderate_score <= required_score");
  ExpectError("links L >> 3\n", SG_ERULE, "t.cf:1:", "links: expected one of");
  ExpectError("check C no_such_thing\n", SG_ERULE, "t.cf:1:", "unknown condition 'no_such_thing'");
}

BOOST_AUTO_TEST_CASE(nothing_is_half_loaded) {
  // The error is on the last line: the whole file is refused, no rule set.
  std::unique_ptr<RuleSet> rs;
  Status st = Load("body A /x/\nbody B /y/\nbody C /(/\n", &rs);
  BOOST_TEST(!st.ok());
  BOOST_TEST(!rs);
}

BOOST_AUTO_TEST_CASE(lenient_mode_skips_broken_lines_with_warnings) {
  std::unique_ptr<RuleSet> rs;
  std::vector<std::string> warnings;
  Status st = Load("body A /x/\nbody B /(/\nbogus\nmeta M A && B\nscore Q 1\nbody C /y/\n", &rs, false, &warnings);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  BOOST_TEST(rs->rules().size() == 2u);  // A and C; B broken, M depends on B
  BOOST_TEST(warnings.size() == 4u);
  BOOST_TEST(warnings[0].rfind("t.cf:2:", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(include_resolves_relative_and_reports_its_own_lines) {
  std::string dir = "/tmp/sg_parser_test_" + std::to_string(getpid());
  std::string mk = "mkdir -p " + dir + "/sub";
  BOOST_REQUIRE(system(mk.c_str()) == 0);
  std::ofstream(dir + "/main.cf") << "body A /x/\ninclude sub/more.cf\n";
  std::ofstream(dir + "/sub/more.cf") << "body B /y/\nbody C /(/\n";
  std::unique_ptr<RuleSet> rs;
  std::vector<std::string> w;
  Status st = RuleSet::LoadFile(dir + "/main.cf", LoadOptions(), &rs, &w);
  BOOST_TEST(!st.ok());
  BOOST_TEST(st.message().rfind(dir + "/sub/more.cf:2:", 0) == 0u, st.message());
  std::ofstream(dir + "/sub/more.cf") << "body B /y/\n";
  st = RuleSet::LoadFile(dir + "/main.cf", LoadOptions(), &rs, &w);
  BOOST_TEST(st.ok(), st.message());
  BOOST_TEST(rs->rules().size() == 2u);
  // A missing include is an I/O error naming the line.
  std::ofstream(dir + "/main.cf") << "include nope.cf\n";
  st = RuleSet::LoadFile(dir + "/main.cf", LoadOptions(), &rs, &w);
  BOOST_TEST(st.code() == SG_EIO);
  BOOST_TEST(st.message().find("main.cf:1: include") != std::string::npos, st.message());
  // An include cycle ends with a clear error, not a hang.
  std::ofstream(dir + "/main.cf") << "include main.cf\n";
  st = RuleSet::LoadFile(dir + "/main.cf", LoadOptions(), &rs, &w);
  BOOST_TEST(!st.ok());
  BOOST_TEST(st.message().find("include cycle") != std::string::npos, st.message());
  std::string rm = "rm -rf " + dir;
  BOOST_TEST(system(rm.c_str()) == 0);
}

BOOST_AUTO_TEST_CASE(missing_file) {
  std::unique_ptr<RuleSet> rs;
  std::vector<std::string> w;
  Status st = RuleSet::LoadFile("/nonexistent/spamguard.cf", LoadOptions(), &rs, &w);
  BOOST_TEST(st.code() == SG_EIO);
  BOOST_TEST(st.message().find("/nonexistent/spamguard.cf: cannot open") == 0u);
}

BOOST_AUTO_TEST_CASE(huge_alternation_is_refused_by_memory_budget_not_hung) {
  std::string alt;
  for (int i = 0; i < 20000; ++i) alt += (i ? "|" : "") + std::string("w") + std::to_string(i) + "[a-z]{1,30}";
  LoadOptions o;
  o.re2_max_mem = 1 << 20;
  std::unique_ptr<RuleSet> rs;
  std::vector<std::string> w;
  Status st = RuleSet::LoadString("body BIG /" + alt + "/\n", "t.cf", o, &rs, &w);
  BOOST_TEST(!st.ok());
  BOOST_TEST(st.code() == SG_ERULE);
  BOOST_TEST(st.message().find("rule BIG") != std::string::npos, st.message());
}

// Rule files that are not files, or that would never end, are refused with
// an I/O error in every mode (lenient mode skips broken lines, not these).
BOOST_AUTO_TEST_CASE(only_regular_files_of_bounded_size_are_read) {
  sgtest::TempDir d;
  for (bool strict : {true, false}) {
    LoadOptions o;
    o.strict = strict;
    std::unique_ptr<RuleSet> rs;
    std::vector<std::string> w;
    // A directory as the rule file, and included.
    Status st = RuleSet::LoadFile(d.path, o, &rs, &w);
    BOOST_TEST(st.code() == SG_EIO);
    BOOST_TEST(st.message().find("not a regular file (a directory)") != std::string::npos, st.message());
    std::ofstream(d.File("dir.cf")) << "body A /x/\ninclude " << d.path << "\n";
    st = RuleSet::LoadFile(d.File("dir.cf"), o, &rs, &w);
    BOOST_TEST(st.code() == SG_EIO);
    BOOST_TEST(st.message().find("dir.cf:2: include") != std::string::npos, st.message());
    // A device that never ends, and a FIFO nobody writes (no hang).
    std::ofstream(d.File("zero.cf")) << "include /dev/zero\n";
    st = RuleSet::LoadFile(d.File("zero.cf"), o, &rs, &w);
    BOOST_TEST(st.code() == SG_EIO);
    BOOST_TEST(st.message().find("a device") != std::string::npos, st.message());
    ::unlink(d.File("fifo").c_str());
    BOOST_REQUIRE(::mkfifo(d.File("fifo").c_str(), 0600) == 0);
    std::ofstream(d.File("fifo.cf")) << "include fifo\n";
    st = RuleSet::LoadFile(d.File("fifo.cf"), o, &rs, &w);
    BOOST_TEST(st.code() == SG_EIO);
    BOOST_TEST(st.message().find("a FIFO") != std::string::npos, st.message());
    // Over the size cap (a sparse file: nothing is written).
    BOOST_REQUIRE(::truncate(d.File("big.cf").c_str(), 0) != 0 || true);
    { std::ofstream(d.File("big.cf")) << "# big\n"; }
    BOOST_REQUIRE(::truncate(d.File("big.cf").c_str(), (int64_t(64) << 20) + 1) == 0);
    st = RuleSet::LoadFile(d.File("big.cf"), o, &rs, &w);
    BOOST_TEST(st.code() == SG_EIO);
    BOOST_TEST(st.message().find("more than a rule file may hold") != std::string::npos, st.message());
  }
}

// A file is read once per load: a cycle (direct, through another file or
// another name) or a second inclusion ends with an error at once, in lenient
// mode too, instead of growing exponentially.
BOOST_AUTO_TEST_CASE(include_cycles_and_repeats_by_file_identity) {
  sgtest::TempDir d;
  std::ofstream(d.File("a.cf")) << "body A /x/\ninclude b.cf\n";
  std::ofstream(d.File("b.cf")) << "include a.cf\n";
  BOOST_REQUIRE(::symlink(d.File("a.cf").c_str(), d.File("alias.cf").c_str()) == 0);
  std::ofstream(d.File("self.cf")) << "include self.cf\ninclude self.cf\ninclude self.cf\n";
  std::ofstream(d.File("viaalias.cf")) << "body V /v/\ninclude alias.cf\ninclude a.cf\n";
  std::ofstream(d.File("c.cf")) << "body C /c/\n";
  std::ofstream(d.File("twice.cf")) << "include c.cf\ninclude ./c.cf\n";
  for (bool strict : {true, false}) {
    LoadOptions o;
    o.strict = strict;
    std::unique_ptr<RuleSet> rs;
    std::vector<std::string> w;
    Status st = RuleSet::LoadFile(d.File("a.cf"), o, &rs, &w);
    BOOST_TEST(st.code() == SG_EIO);
    BOOST_TEST(st.message().find("include cycle") != std::string::npos, st.message());
    st = RuleSet::LoadFile(d.File("self.cf"), o, &rs, &w);
    BOOST_TEST(st.code() == SG_EIO);
    BOOST_TEST(st.message().find("self.cf:1: include") != std::string::npos, st.message());
    st = RuleSet::LoadFile(d.File("twice.cf"), o, &rs, &w);
    BOOST_TEST(st.code() == SG_EIO);
    BOOST_TEST(st.message().find("twice.cf:2: include") != std::string::npos, st.message());
    BOOST_TEST(st.message().find("already included") != std::string::npos, st.message());
    st = RuleSet::LoadFile(d.File("viaalias.cf"), o, &rs, &w);
    BOOST_TEST(st.code() == SG_EIO);
  }
}

// Metas may chain as long as a file allows: resolving, ordering and
// evaluating them uses no recursion (a chain of 200,000 once overflowed the
// stack), and a lenient load of 20,000 broken metas stays linear.
BOOST_AUTO_TEST_CASE(long_meta_chains_cost_no_stack) {
  const int n = 200000;
  std::string text = "body A /needle/\n";
  for (int i = 0; i < n; ++i)
    text += "meta " + std::string(i ? "__M" : "M") + std::to_string(i) + " " +
            (i + 1 < n ? "__M" + std::to_string(i + 1) : std::string("A")) + "\n";  // __: silent
  text += "score M0 7\nscore A 1\n";
  std::unique_ptr<RuleSet> rs;
  Status st = Load(text, &rs);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  comment::Normalized norm;
  norm.body = "a needle here";
  std::vector<Hit> hits;
  BOOST_TEST(rs->Evaluate(norm, &hits) == 8.0);  // A and M0
  norm.body = "nothing";
  hits.clear();
  BOOST_TEST(rs->Evaluate(norm, &hits) == 0.0);
  // The chain in reverse order of definition, and the same chain closed
  // into a cycle (refused; lenient mode drops all of it).
  std::string cyc = "body A /needle/\n";
  for (int i = 0; i < n; ++i) cyc += "meta M" + std::to_string(i) + " M" + std::to_string((i + 1) % n) + " || A\n";
  st = Load(cyc);
  BOOST_TEST(st.code() == SG_ERULE);
  BOOST_TEST(st.message().find("cycle") != std::string::npos, st.message());
  std::vector<std::string> w;
  st = Load(cyc, &rs, false, &w);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  BOOST_TEST(rs->rules().size() == 1u);
  BOOST_TEST(w.size() == size_t(n));
  std::string unknown = "body A /x/\n";
  for (int i = 0; i < 20000; ++i) unknown += "meta U" + std::to_string(i) + " NOPE" + std::to_string(i) + " && A\n";
  w.clear();
  st = Load(unknown, &rs, false, &w);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  BOOST_TEST(rs->rules().size() == 1u);
  BOOST_TEST(w.size() == 20000u);
}

// Compiled lazily, a set over the memory budget is reported when first
// needed and matches nothing: never the slow rule-by-rule fallback.
BOOST_AUTO_TEST_CASE(lazy_sets_over_budget_are_refused_when_first_used) {
  std::string alt;
  for (int i = 0; i < 20000; ++i) alt += (i ? "|" : "") + std::string("w") + std::to_string(i) + "[a-z]{1,30}";
  LoadOptions o;
  o.re2_max_mem = 1 << 20;
  o.lazy_compile = true;
  std::unique_ptr<RuleSet> rs;
  std::vector<std::string> w;
  Status st = RuleSet::LoadString("body SMALL /hello/\nbody BIG /" + alt + "/\nauthor NAME /bob/\n", "t.cf", o, &rs, &w);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  comment::Normalized norm;
  norm.body = "hello w1abc";
  norm.author = "bob";
  std::vector<Hit> hits;
  Status err;
  rs->Evaluate(norm, &hits, &err);
  BOOST_TEST(err.code() == SG_ERULE);
  BOOST_TEST(err.message().find("t.cf:2: rule BIG") == 0u, err.message());
  BOOST_TEST((err.message().find("RE2 memory budget") != std::string::npos ||
              err.message().find("pattern too large") != std::string::npos), err.message());
  for (const auto& h : hits) BOOST_TEST(rs->rules()[size_t(h.rule)].name != "BIG");
}

BOOST_AUTO_TEST_SUITE_END()
