#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "rules/ruleset.h"

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
  BOOST_TEST(st.message().find("nested too deeply") != std::string::npos, st.message());
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

BOOST_AUTO_TEST_SUITE_END()
