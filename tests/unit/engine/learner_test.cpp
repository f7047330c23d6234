// The content learner through the engine: silent until it has learned
// enough, then one capped hit that names its tokens; forgetting; auto-
// learning that cannot feed on its own points; hostile token inputs.
#include <boost/test/unit_test.hpp>

#include "../engine_util.h"
#include "../test_util.h"

#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "learner/learner.h"

using namespace spamguard;
using namespace spamguard::engine;

namespace {

using sgtest::TempDir;

const char* kLearned =
    "learn_min_spam 3\nlearn_min_ham 3\n"
    "learned LEARNED_SPAM 0.90 1.00\nscore LEARNED_SPAM 4\n"
    "learned LEARNED_HAM 0.00 0.10\nscore LEARNED_HAM -1\n";

std::unique_ptr<Engine> Open(const std::string& db, const std::string& extra = "") {
  return sgtest::OpenEngine(std::string(kLearned) + "body PH /viagra/i\nscore PH 6\n" + extra, db);
}

comment::Comment C(const std::string& body, const std::string& id, const std::string& author = "") {
  comment::Comment c;
  c.fields[SG_FIELD_IP] = "192.0.2.1";
  c.fields[SG_FIELD_BODY] = body;
  c.fields[SG_FIELD_ID] = id;
  c.fields[SG_FIELD_AUTHOR] = author;
  return c;
}

const VerdictHit* Find(const Verdict& v, const std::string& name) {
  for (const auto& h : v.hits)
    if (h.rule >= 0 && v.rules->rules()[size_t(h.rule)].name == name) return &h;
  return nullptr;
}

const char* kSpam[] = {"cheap pills at discount prices", "buy cheap pills online today", "discount pills cheap shipping",
                       "order cheap pills now", "best discount pills here"};
const char* kHam[] = {"the router dropped its lease again", "thanks, lowering the lease time fixed my router",
                      "my router needed a firmware update", "which router model do you use",
                      "the lease time setting is under advanced"};

}  // namespace

BOOST_AUTO_TEST_SUITE(learner)

BOOST_AUTO_TEST_CASE(silent_until_it_has_learned_enough_then_names_its_tokens) {
  TempDir d;
  auto e = Open(d.File("l.db"));
  for (int i = 0; i < 3; ++i) BOOST_REQUIRE(e->Learn(C(kHam[i], "h" + std::to_string(i)), SG_LABEL_HAM).ok());
  for (int i = 0; i < 2; ++i) BOOST_REQUIRE(e->Learn(C(kSpam[i], "s" + std::to_string(i)), SG_LABEL_SPAM).ok());
  Verdict v;
  e->Score(C("cheap pills, cheap", "x"), &v);
  BOOST_TEST(Find(v, "LEARNED_SPAM") == nullptr);  // two spam learned, three needed
  BOOST_REQUIRE(e->Learn(C(kSpam[2], "s2"), SG_LABEL_SPAM).ok());
  e->Score(C("cheap pills, cheap", "x"), &v);
  const VerdictHit* h = Find(v, "LEARNED_SPAM");
  BOOST_REQUIRE(h != nullptr);
  BOOST_TEST(h->points == 4.0);
  BOOST_TEST(v.score == 4.0);
  BOOST_TEST(h->match.find("tokens: ") != std::string::npos, h->match);
  BOOST_TEST(h->match.find("'pills'") != std::string::npos, h->match);
  BOOST_TEST(h->match.find("'cheap'") != std::string::npos, h->match);
  // A ham-like comment gets the ham step.
  e->Score(C("my router lease time", "y"), &v);
  BOOST_REQUIRE(Find(v, "LEARNED_HAM") != nullptr);
  BOOST_TEST(v.score == -1.0);
  BOOST_TEST(Find(v, "LEARNED_HAM")->match.find("'router'") != std::string::npos);
  // Forgetting the spam takes the learner back under its minimum.
  bool found = false;
  BOOST_REQUIRE(e->Forget(C(kSpam[2], "s2"), &found).ok());
  BOOST_TEST(found);
  BOOST_REQUIRE(e->Forget(C(kSpam[2], "s2"), &found).ok());
  BOOST_TEST(!found);
  e->Score(C("cheap pills, cheap", "x"), &v);
  BOOST_TEST(Find(v, "LEARNED_SPAM") == nullptr);
  store::StoreStats st;
  BOOST_REQUIRE(e->Stats(&st).ok());
  BOOST_TEST(st.learner.spam == 2);
  BOOST_TEST(st.learner.ham == 3);
  BOOST_TEST(st.learner_rules == 2);
}

BOOST_AUTO_TEST_CASE(a_long_lived_engine_sees_what_others_learn_at_once) {
  TempDir d;
  auto scorer = Open(d.File("live.db"));
  auto teacher = Open(d.File("live.db"));  // another connection, as another process
  for (int i = 0; i < 5; ++i) {
    BOOST_REQUIRE(teacher->Learn(C(kSpam[i], "s" + std::to_string(i)), SG_LABEL_SPAM).ok());
    BOOST_REQUIRE(teacher->Learn(C(kHam[i], "h" + std::to_string(i)), SG_LABEL_HAM).ok());
  }
  // Enough scores for the scorer to hold the token table in memory.
  Verdict v;
  for (int i = 0; i < 200; ++i) scorer->Score(C("zebra crossing tonight", "q" + std::to_string(i)), &v);
  BOOST_TEST(Find(v, "LEARNED_SPAM") == nullptr);
  // The other connection teaches that "zebra crossing" is spam: the next
  // score sees it, and so does the one after the table is held again.
  for (int i = 0; i < 5; ++i)
    BOOST_REQUIRE(teacher->Learn(C("zebra crossing cheap pills " + std::to_string(i), "z" + std::to_string(i)),
                                 SG_LABEL_SPAM).ok());
  scorer->Score(C("zebra crossing tonight", "x"), &v);
  BOOST_TEST(Find(v, "LEARNED_SPAM") != nullptr);
  for (int i = 0; i < 200; ++i) scorer->Score(C("zebra crossing tonight", "y" + std::to_string(i)), &v);
  BOOST_TEST(Find(v, "LEARNED_SPAM") != nullptr);
  // Its own learns count at once too.
  for (int i = 0; i < 10; ++i)
    BOOST_REQUIRE(scorer->Learn(C("zebra crossing tonight " + std::to_string(i), "o" + std::to_string(i)),
                                SG_LABEL_HAM).ok());
  scorer->Score(C("zebra crossing tonight", "w"), &v);
  BOOST_TEST(Find(v, "LEARNED_SPAM") == nullptr);
}

BOOST_AUTO_TEST_CASE(auto_learning_never_feeds_on_its_own_points) {
  TempDir d;
  // Auto-learn spam at 6 and ham at 0; "cheap" scores 3 by rule.
  auto e = Open(d.File("a.db"), "body SOFT /cheap/i\nscore SOFT 3\ndiscard_score 6\nauto_learn 1\n"
                                "auto_learn_ham_score 0\nrequired_score 5\nmoderate_score 3\n");
  for (int i = 0; i < 5; ++i) {
    BOOST_REQUIRE(e->Learn(C(kSpam[i], "s" + std::to_string(i)), SG_LABEL_SPAM).ok());
    BOOST_REQUIRE(e->Learn(C(kHam[i], "h" + std::to_string(i)), SG_LABEL_HAM).ok());
  }
  store::StoreStats before;
  BOOST_REQUIRE(e->Stats(&before).ok());
  // A stream of borderline comments (the rules give 3: neither clean nor
  // sure): spam words among ham words, and "cheap" comments the learner
  // pushes over discard_score (3 + 4 = 7) though the rules alone do not.
  Verdict v;
  int over = 0;
  for (int i = 0; i < 400; ++i) {
    std::string id = "b" + std::to_string(i);
    if (i % 2) e->Score(C("cheap pills cheap " + std::to_string(i), id), &v);
    else e->Score(C("cheap router lease pills " + std::to_string(i), id), &v);
    if (v.score >= 6) ++over;
  }
  BOOST_TEST(over > 0);  // the learner did push some over the bound...
  store::StoreStats after;
  BOOST_REQUIRE(e->Stats(&after).ok());
  BOOST_TEST(after.learner.spam == before.learner.spam);  // ...and none was learned from
  BOOST_TEST(after.learner.ham == before.learner.ham);
  // Ham it has not seen is still not called spam.
  for (int i = 0; i < 5; ++i) {
    e->Score(C(std::string(kHam[i]) + " again, thanks", "n" + std::to_string(i)), &v);
    BOOST_TEST(Find(v, "LEARNED_SPAM") == nullptr, kHam[i]);
    BOOST_TEST(v.action == SG_ACTION_ACCEPT);
  }
}

BOOST_AUTO_TEST_CASE(hostile_token_inputs_cost_a_bounded_number_of_rows) {
  TempDir d;
  auto e = Open(d.File("h.db"));
  // No tokens to speak of, one word 100,000 times, one 64 KB word, 64 KB of
  // distinct words, NUL bytes and invalid UTF-8.
  static const char kNulAndBadBytes[] = "nul\0byte \xff\xfe bad";
  std::string repeated, distinct;
  for (int i = 0; i < 100000; ++i) repeated += "pills ";
  for (int i = 0; distinct.size() < 65536; ++i) distinct += "w" + std::to_string(i) + " ";
  const std::string bodies[] = {"", repeated, std::string(65536, 'x'), distinct,
                                std::string(kNulAndBadBytes, sizeof kNulAndBadBytes - 1)};
  int id = 0;
  for (const auto& b : bodies) BOOST_REQUIRE(e->Learn(C(b, "x" + std::to_string(id++)), SG_LABEL_SPAM).ok());
  store::StoreStats st;
  BOOST_REQUIRE(e->Stats(&st).ok());
  BOOST_TEST(st.learner.spam == 5);
  BOOST_TEST(st.learner.tokens <= int64_t(spamguard::learner::kMaxTokensPerComment) + 40);
  // The tokenizer counts each token once and bounds a comment's tokens.
  comment::Normalized n;
  n.body = repeated;
  spamguard::learner::Tokens t;
  spamguard::learner::Tokenize(n, &t);
  BOOST_TEST(t.list.size() < 10u);
  n.body = distinct;
  spamguard::learner::Tokenize(n, &t);
  BOOST_TEST(t.list.size() == spamguard::learner::kMaxTokensPerComment);
  n.body = std::string(65536, 'x');
  spamguard::learner::Tokenize(n, &t);
  bool long_word = false;
  for (const auto& tok : t.list) long_word |= t.Text(tok) == "long:6";
  BOOST_TEST(long_word);
}

BOOST_AUTO_TEST_CASE(a_learner_database_cut_short_fails_open_and_says_so) {
  TempDir d;
  std::string path = d.File("cut.db");
  {
    auto e = Open(path);
    BOOST_REQUIRE(e->Batch(true).ok());
    for (int i = 0; i < 400; ++i) {
      std::string body = std::string(kSpam[i % 5]) + " word" + std::to_string(i) + " other" + std::to_string(i * 7);
      BOOST_REQUIRE(e->Learn(C(body, "c" + std::to_string(i)), i % 3 ? SG_LABEL_SPAM : SG_LABEL_HAM).ok());
    }
    BOOST_REQUIRE(e->Batch(false).ok());
  }
  // Cut the file in half, as a full disk or a bad copy would.
  struct stat sb;
  BOOST_REQUIRE(::stat(path.c_str(), &sb) == 0);
  BOOST_REQUIRE(sb.st_size > 8192);
  BOOST_REQUIRE(::truncate(path.c_str(), sb.st_size / 2) == 0);
  ::unlink((path + "-wal").c_str());
  ::unlink((path + "-shm").c_str());
  Options o;
  o.database = path;
  std::unique_ptr<Engine> e;
  Status st = Engine::OpenString(std::string(kLearned) + "body PH /viagra/i\nscore PH 6\n", "t.cf", o, &e);
  if (!st.ok()) {
    BOOST_TEST(st.message().find(path) != std::string::npos, st.message());  // refused, with the reason
    return;
  }
  // Opened: every verdict still comes, flagged when the state cannot be read,
  // and learning reports an error instead of crashing.
  Verdict v;
  int flagged = 0;
  for (int i = 0; i < 50; ++i) {
    e->Score(C(std::string(kSpam[i % 5]) + " word" + std::to_string(i), "q" + std::to_string(i)), &v);
    flagged += (v.flags & SG_FLAG_STATE_UNAVAILABLE) != 0;
  }
  Status learned = e->Learn(C("cheap pills word1", "new"), SG_LABEL_SPAM);
  BOOST_TEST_MESSAGE("cut short: " << flagged << " of 50 verdicts flagged; learn: "
                                   << (learned.ok() ? "ok" : learned.message()));
  BOOST_TEST((flagged > 0 || !learned.ok() || !e->has_state()));
}

BOOST_AUTO_TEST_CASE(learned_rules_are_checked_at_load) {
  Options o;
  o.database = "none";
  std::unique_ptr<Engine> e;
  Status st = Engine::OpenString("learned A 0.5 0.9\nlearned B 0.8 1.0\n", "t.cf", o, &e);
  BOOST_TEST(!st.ok());
  BOOST_TEST(st.message().find("t.cf:2: rule B: learned: range 0.8..1 overlaps A") != std::string::npos, st.message());
  st = Engine::OpenString("learned A 0.5 0.4\n", "t.cf", o, &e);
  BOOST_TEST(st.message().find("t.cf:1: rule A: learned: expected two probabilities") != std::string::npos,
             st.message());
  st = Engine::OpenString("learned A 0.9 1\nbody B /x/\nmeta M A && B\n", "t.cf", o, &e);
  BOOST_TEST(st.message().find("rule M: meta uses learned rule 'A'") != std::string::npos, st.message());
  st = Engine::OpenString("learned A 0.9 1\nscore A 3\nlearn_min_spam 0\n", "t.cf", o, &e);
  BOOST_TEST(st.message().find("t.cf:3: learn_min_spam") != std::string::npos, st.message());
  // Without a database the learned rules never fire.
  BOOST_REQUIRE(Engine::OpenString("learned A 0 1\nscore A 3\n", "t.cf", o, &e).ok());
  Verdict v;
  e->Score(C("anything", "1"), &v);
  BOOST_TEST(v.score == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()
