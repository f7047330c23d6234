#include <boost/test/unit_test.hpp>
#include <chrono>
#include <regex>
#include <string>

#include "comment/comment.h"
#include "rules/ruleset.h"

using namespace spamguard;
using namespace spamguard::rules;

namespace {

std::unique_ptr<RuleSet> MustLoad(const std::string& text) {
  std::unique_ptr<RuleSet> rs;
  std::vector<std::string> w;
  Status st = RuleSet::LoadString(text, "t.cf", LoadOptions(), &rs, &w);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  return rs;
}

struct Eval {
  double score;
  std::vector<std::string> names;
  std::vector<std::string> matches;
};

Eval Run(const RuleSet& rs, const comment::Comment& c) {
  comment::Normalized n;
  comment::Normalize(c, rs.settings().limits, &n);
  std::vector<Hit> hits;
  Eval e;
  e.score = rs.Evaluate(n, &hits);
  for (const auto& h : hits) {
    e.names.push_back(rs.rules()[size_t(h.rule)].name);
    e.matches.push_back(h.match);
  }
  return e;
}

comment::Comment Body(const std::string& b) {
  comment::Comment c;
  c.fields[SG_FIELD_BODY] = b;
  return c;
}

bool Has(const Eval& e, const std::string& name) {
  return std::find(e.names.begin(), e.names.end(), name) != e.names.end();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rules)

BOOST_AUTO_TEST_CASE(regex_rules_report_what_matched) {
  auto rs = MustLoad("body PH /\\b(?:viagra|cialis)\\b/i\nscore PH 3\nbody OTHER /zzz/\n");
  Eval e = Run(*rs, Body("Cheap VIAGRA here"));
  BOOST_TEST(e.score == 3.0);
  BOOST_REQUIRE(e.names.size() == 1u);
  BOOST_TEST(e.names[0] == "PH");
  BOOST_TEST(e.matches[0] == "VIAGRA");
}

BOOST_AUTO_TEST_CASE(each_field_is_scanned) {
  auto rs = MustLoad(
      "author A /bob/\nemail E /@spam\\.example$/\nurl U /shop/\nua UA /^curl/\nreferrer R /ref/\n"
      "blog_name BN /casino/\ntitle T /title/\nexcerpt X /pills/\nsource_url S /src/\nip I /^192\\.0\\.2\\./\n"
      "rawbody RB /&#118;/\nbody B /decoded v/\n");
  comment::Comment c;
  c.fields[SG_FIELD_AUTHOR] = "bob";
  c.fields[SG_FIELD_EMAIL] = "x@spam.example";
  c.fields[SG_FIELD_URL] = "http://shop.example/";
  c.fields[SG_FIELD_USER_AGENT] = "curl/8";
  c.fields[SG_FIELD_REFERRER] = "http://ref.example/";
  c.fields[SG_FIELD_BLOG_NAME] = "casino blog";
  c.fields[SG_FIELD_TITLE] = "a title";
  c.fields[SG_FIELD_EXCERPT] = "<p>pills</p>";
  c.fields[SG_FIELD_SOURCE_URL] = "http://src.example/";
  c.fields[SG_FIELD_IP] = "::ffff:192.0.2.5";
  c.fields[SG_FIELD_BODY] = "decoded &#118;";
  Eval e = Run(*rs, c);
  for (const char* n : {"A", "E", "U", "UA", "R", "BN", "T", "X", "S", "I", "RB", "B"})
    BOOST_TEST(Has(e, n), "missing " << n);
  BOOST_TEST(e.score == 12.0);
}

BOOST_AUTO_TEST_CASE(uri_rules_see_every_link) {
  auto rs = MustLoad("uri SHORT /^https?:\\/\\/bit\\.ly\\//\n");
  Eval e = Run(*rs, Body("<a href=\"http://ok.example/\">x</a> [url=HTTP://BIT.LY/abc]y[/url]"));
  BOOST_REQUIRE(Has(e, "SHORT"));
  BOOST_TEST(e.matches[0] == "http://bit.ly/abc");
}

BOOST_AUTO_TEST_CASE(links_and_checks) {
  auto rs = MustLoad("links MANY > 2\nlinks ONE == 1\ncheck U invalid_utf8\ncheck LO link_only\ncheck E empty_body\n");
  Eval e = Run(*rs, Body("http://a.example http://b.example http://c.example"));
  BOOST_TEST(Has(e, "MANY"));
  BOOST_TEST(Has(e, "LO"));
  BOOST_TEST(!Has(e, "ONE"));
  BOOST_TEST(e.matches[0] == "3 links");
  e = Run(*rs, Body("bad \xC3\x28 byte"));
  BOOST_TEST(Has(e, "U"));
  BOOST_TEST(!Has(e, "LO"));
  e = Run(*rs, Body(""));
  BOOST_TEST(Has(e, "E"));
}

BOOST_AUTO_TEST_CASE(meta_boolean_and_counted) {
  auto rs = MustLoad(
      "body __A /aaa/\nbody __B /bbb/\nbody __C /ccc/\n"
      "meta AND __A && __B\nmeta OR __A || __C\nmeta NOT __A && !__C\nmeta TWO (__A + __B + __C) >= 2\n"
      "meta PAREN !(__A || __B)\nmeta NESTED AND && TWO\n");
  Eval e = Run(*rs, Body("aaa bbb"));
  BOOST_TEST(Has(e, "AND"));
  BOOST_TEST(Has(e, "OR"));
  BOOST_TEST(Has(e, "NOT"));
  BOOST_TEST(Has(e, "TWO"));
  BOOST_TEST(!Has(e, "PAREN"));
  BOOST_TEST(Has(e, "NESTED"));
  BOOST_TEST(!Has(e, "__A"));  // silent building blocks are not listed
  BOOST_TEST(e.score == 5.0);
  e = Run(*rs, Body("ccc"));
  BOOST_TEST(!Has(e, "AND"));
  BOOST_TEST(Has(e, "OR"));
  BOOST_TEST(!Has(e, "TWO"));
  BOOST_TEST(!Has(e, "NOT"));
  BOOST_TEST(Has(e, "PAREN"));
}

BOOST_AUTO_TEST_CASE(zero_score_disables_a_rule_but_metas_still_see_it) {
  auto rs = MustLoad("body A /x/\nscore A 0\nmeta M A\nscore M 2\n");
  Eval e = Run(*rs, Body("x"));
  BOOST_TEST(!Has(e, "A"));
  BOOST_TEST(Has(e, "M"));
  BOOST_TEST(e.score == 2.0);
}

BOOST_AUTO_TEST_CASE(negative_scores_lower_the_total) {
  auto rs = MustLoad("body A /x/\nscore A 3\nemail GOOD /@trusted\\.example$/\nscore GOOD -2.5\n");
  comment::Comment c = Body("x");
  c.fields[SG_FIELD_EMAIL] = "me@trusted.example";
  BOOST_TEST(Run(*rs, c).score == 0.5);
}

BOOST_AUTO_TEST_CASE(nul_bytes_are_matched_as_data) {
  auto rs = MustLoad("body N /a\\x00b/\n");
  Eval e = Run(*rs, Body(std::string("xa\0by", 5)));
  BOOST_REQUIRE(Has(e, "N"));
  BOOST_TEST(e.matches[0] == std::string("a\0b", 3));
}

BOOST_AUTO_TEST_CASE(trackback_conditions) {
  auto rs = MustLoad("check T title_is_blog_name\ncheck X empty_excerpt\ncheck TB trackback\n");
  comment::Comment c;
  c.kind = comment::Kind::kTrackback;
  c.fields[SG_FIELD_BLOG_NAME] = "Cheap Stuff";
  c.fields[SG_FIELD_TITLE] = "cheap stuff";
  c.fields[SG_FIELD_SOURCE_URL] = "http://cheap.example/";
  Eval e = Run(*rs, c);
  BOOST_TEST(Has(e, "T"));
  BOOST_TEST(Has(e, "X"));
  BOOST_TEST(Has(e, "TB"));
  c.kind = comment::Kind::kComment;  // the same fields on a comment are not trackback signs
  e = Run(*rs, c);
  BOOST_TEST(e.names.empty());
}

// A pattern that takes exponential time in a backtracking engine runs in
// linear time here. std::regex (backtracking) shows the blow-up on inputs
// kept small enough to finish; spamguard then scans an input a million
// times longer.
BOOST_AUTO_TEST_CASE(redos_pattern_runs_in_linear_time) {
  using Clock = std::chrono::steady_clock;
  const std::string pattern = "^(a+)+$";
  std::regex backtracking(pattern);
  double prev = 0, growth = 0;
  for (int n : {16, 18, 20}) {
    std::string s(size_t(n), 'a');
    s += 'b';
    // (The least of three runs: a busy machine can only add time.)
    double secs = 0;
    for (int run = 0; run < 3; ++run) {
      auto t0 = Clock::now();
      BOOST_TEST(!std::regex_search(s, backtracking));
      const double t = std::chrono::duration<double>(Clock::now() - t0).count();
      if (run == 0 || t < secs) secs = t;
    }
    if (prev > 0) growth = secs / prev;
    BOOST_TEST_MESSAGE("std::regex n=" << n << ": " << secs << " s");
    prev = secs;
  }
  // Two more characters cost the backtracker about four times the work.
  BOOST_TEST(growth > 2.0, "std::regex growth per +2 chars: " << growth);

  auto rs = MustLoad("body EVIL /" + pattern + "/\nbody EVIL2 /(x+x+)+y/\nbody EVIL3 /(?:a|aa)+$/\n");
  comment::Comment c = Body(std::string(60000, 'a') + "b" + std::string(5000, 'x'));
  comment::Normalized n;
  comment::Limits lim;
  comment::Normalize(c, lim, &n);
  std::vector<Hit> hits;
  auto t0 = Clock::now();
  double score = rs->Evaluate(n, &hits);
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  BOOST_TEST_MESSAGE("spamguard on 65,001 bytes: " << secs << " s");
  BOOST_TEST(score == 0.0);
  // Backtracking would need ~2^60000 steps; a generous bound that only a
  // linear-time engine can meet.
  BOOST_TEST(secs < 5.0);
}

BOOST_AUTO_TEST_SUITE_END()
