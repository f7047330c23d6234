#include <boost/test/unit_test.hpp>
#include <map>
#include <string>

#include "engine/engine.h"

using namespace spamguard;
using namespace spamguard::engine;

namespace {

std::unique_ptr<Engine> Open(const std::string& text, Options o = Options()) {
  if (o.database.empty()) o.database = "none";
  std::unique_ptr<Engine> e;
  Status st = Engine::OpenString(text, "t.cf", o, &e);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  return e;
}

Verdict Score(const Engine& e, const std::string& body) {
  comment::Comment c;
  c.fields[SG_FIELD_BODY] = body;
  Verdict v;
  e.Score(c, &v);
  return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine)

BOOST_AUTO_TEST_CASE(thresholds_map_scores_to_actions) {
  auto e = Open(
      "moderate_score 2\nrequired_score 4\ndiscard_score 8\n"
      "body M /mod/\nscore M 2\nbody S /spam/\nscore S 4\nbody D /drop/\nscore D 8\nbody N /neg/\nscore N -1\n");
  BOOST_TEST(Score(*e, "hello").action == SG_ACTION_ACCEPT);
  BOOST_TEST(Score(*e, "mod").action == SG_ACTION_MODERATE);
  BOOST_TEST(Score(*e, "mod neg").action == SG_ACTION_ACCEPT);
  BOOST_TEST(Score(*e, "spam").action == SG_ACTION_SPAM);
  BOOST_TEST(Score(*e, "spam mod").action == SG_ACTION_SPAM);
  BOOST_TEST(Score(*e, "drop").action == SG_ACTION_DISCARD);
  BOOST_TEST(Score(*e, "drop").score == 8.0);
}

BOOST_AUTO_TEST_CASE(decimal_scores_meet_thresholds_exactly) {
  auto e = Open("required_score 0.3\nmoderate_score 0.1\nbody A /a/\nscore A 0.1\nbody B /b/\nscore B 0.2\n");
  Verdict v = Score(*e, "a b");
  BOOST_TEST(v.score == 0.3);
  BOOST_TEST(v.action == SG_ACTION_SPAM);
}

// A rule's match is looked for when read, in the text the verdict kept: the
// comment may be gone by then.
BOOST_AUTO_TEST_CASE(a_match_is_found_when_read_in_the_text_the_verdict_kept) {
  auto e = Open("body A /(?i)cheap\\s+\\w+/\nscore A 2\nbody B /casino/\nauthor C /^Bob$/\n");
  Verdict v;
  {
    comment::Comment c;
    c.fields[SG_FIELD_BODY] = "Visit the casino for CHEAP   pills, cheap meds";
    c.fields[SG_FIELD_AUTHOR] = "Bob";
    e->Score(c, &v);
  }  // (the comment and its normalized text are gone)
  BOOST_REQUIRE(v.hits.size() == 3u);
  std::map<std::string, std::string> got;
  for (size_t i = 0; i < v.hits.size(); ++i) {
    BOOST_TEST(v.hits[i].match.empty());
    BOOST_TEST(v.hits[i].match_in != nullptr);
    got[v.rules->rules()[size_t(v.hits[i].rule)].name] = MatchOf(v, i);
    BOOST_TEST(v.hits[i].match_in == nullptr);  // (found once)
  }
  BOOST_TEST(got["A"] == "CHEAP pills");
  BOOST_TEST(got["B"] == "casino");
  BOOST_TEST(got["C"] == "Bob");
  BOOST_TEST(MatchOf(v, 0) == got[v.rules->rules()[size_t(v.hits[0].rule)].name]);
}

BOOST_AUTO_TEST_CASE(hits_are_ordered_by_points) {
  auto e = Open("body A /a/\nscore A 1\nbody B /b/\nscore B 3\nbody C /c/\nscore C 2\n");
  Verdict v = Score(*e, "a b c");
  BOOST_REQUIRE(v.hits.size() == 3u);
  BOOST_TEST(v.rules->rules()[size_t(v.hits[0].rule)].name == "B");
  BOOST_TEST(v.rules->rules()[size_t(v.hits[1].rule)].name == "C");
  BOOST_TEST(v.rules->rules()[size_t(v.hits[2].rule)].name == "A");
}

BOOST_AUTO_TEST_CASE(options_override_file_caps) {
  Options o;
  o.max_body_bytes = 100;
  auto e = Open("max_body_bytes 100000\nbody TAIL /tail/\ncheck TR truncated\n", o);
  Verdict v = Score(*e, std::string(200, 'x') + "tail");
  BOOST_TEST((v.flags & SG_FLAG_TRUNCATED) != 0);
  BOOST_REQUIRE(v.hits.size() == 1u);
  BOOST_TEST(v.rules->rules()[size_t(v.hits[0].rule)].name == "TR");
}

BOOST_AUTO_TEST_CASE(verdict_outlives_engine) {
  Verdict v;
  {
    auto e = Open("body A /a/\ndescribe A the letter a\n");
    v = Score(*e, "a");
  }
  BOOST_REQUIRE(v.hits.size() == 1u);
  BOOST_TEST(v.rules->rules()[size_t(v.hits[0].rule)].description == "the letter a");
}

BOOST_AUTO_TEST_SUITE_END()
