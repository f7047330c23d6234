// One sg_engine shared by several threads: every thread gets exactly the
// verdicts a single thread gets.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "corpus_util.h"

BOOST_AUTO_TEST_SUITE(integration)

BOOST_AUTO_TEST_CASE(engine_is_shared_safely_between_threads) {
  sg_engine* engine = nullptr;
  BOOST_REQUIRE_MESSAGE(sgtest::OpenContentOnly(&engine, SG_SOURCE_DIR "/data/spamguard.cf") == SG_OK,
                        sg_error_message());
  auto samples = sgtest::LoadJsonl(SG_SOURCE_DIR "/data/samples/comments.jsonl");
  auto ham = sgtest::LoadJsonl(SG_SOURCE_DIR "/tests/fixtures/blog_ham.jsonl");
  for (auto& h : ham) samples.push_back(std::move(h));
  BOOST_REQUIRE(samples.size() > 40u);

  std::vector<std::string> expected;
  for (const auto& s : samples) {
    sg_result* r = nullptr;
    BOOST_REQUIRE(sg_engine_score(&r, engine, s.comment.get()) == SG_OK);
    char* json = nullptr;
    BOOST_REQUIRE(sg_result_to_json(&json, nullptr, r) == SG_OK);
    expected.emplace_back(json);
    sg_free(json);
    sg_result_free(r);
  }

  constexpr int kThreads = 8, kRounds = 200;
  std::atomic<int> mismatches{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        for (size_t k = 0; k < samples.size(); ++k) {
          size_t i = (k + size_t(t) * 7 + size_t(round)) % samples.size();
          sg_result* r = nullptr;
          if (sg_engine_score(&r, engine, samples[i].comment.get()) != SG_OK) {
            ++errors;
            continue;
          }
          char* json = nullptr;
          if (sg_result_to_json(&json, nullptr, r) != SG_OK || expected[i] != json) ++mismatches;
          sg_free(json);
          sg_result_free(r);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  BOOST_TEST(errors.load() == 0);
  BOOST_TEST(mismatches.load() == 0);
  sg_engine_close(engine);
}

// The content learner under threads: scorers share one engine (and the
// token table it holds) while another thread learns through it, so the
// table is dropped and read again as they go.
BOOST_AUTO_TEST_CASE(scoring_with_the_learner_while_a_thread_learns) {
  char dir[] = "/tmp/sg_threads_XXXXXX";
  BOOST_REQUIRE(mkdtemp(dir) != nullptr);
  std::string db = std::string(dir) + "/learn.db";
  sg_config* cfg = nullptr;
  sg_config_new(&cfg);
  sg_config_set_str(cfg, SG_CFG_DATABASE, db.c_str());
  sg_config_set_int(cfg, SG_CFG_RATELIMIT_MODE, SG_RATELIMIT_OFF);
  sg_engine* engine = nullptr;
  BOOST_REQUIRE_MESSAGE(sg_engine_open(&engine, SG_SOURCE_DIR "/data/spamguard.cf", cfg) == SG_OK, sg_error_message());
  sg_config_free(cfg);
  auto samples = sgtest::LoadJsonl(SG_SOURCE_DIR "/data/samples/comments.jsonl");
  auto ham = sgtest::LoadJsonl(SG_SOURCE_DIR "/tests/fixtures/blog_ham.jsonl");
  for (auto& h : ham) samples.push_back(std::move(h));
  for (const auto& s : samples)
    BOOST_REQUIRE(sg_engine_learn(engine, s.comment.get(), s.label == "spam" ? SG_LABEL_SPAM : SG_LABEL_HAM) == SG_OK);

  std::atomic<int> errors{0}, learned_hits{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 100; ++round) {
        for (size_t k = 0; k < samples.size(); ++k) {
          sg_result* r = nullptr;
          if (sg_engine_score(&r, engine, samples[(k + size_t(t)) % samples.size()].comment.get()) != SG_OK ||
              (sg_result_flags(r) & SG_FLAG_STATE_UNAVAILABLE)) {
            ++errors;
          } else {
            for (size_t i = 0; i < sg_result_hit_count(r); ++i)
              if (std::string(sg_result_hit_name(r, i)).rfind("LEARNED_", 0) == 0) ++learned_hits;
          }
          sg_result_free(r);
        }
      }
    });
  }
  std::thread teacher([&] {
    sg_comment* c = nullptr;
    sg_comment_new(&c);
    for (int i = 0; i < 200 && !stop; ++i) {
      std::string id = "t" + std::to_string(i), body = "zebra crossing number " + std::to_string(i);
      sg_comment_reset(c);
      sg_comment_set_field(c, SG_FIELD_ID, id.data(), id.size());
      sg_comment_set_field(c, SG_FIELD_BODY, body.data(), body.size());
      if (sg_engine_learn(engine, c, i % 2 ? SG_LABEL_SPAM : SG_LABEL_HAM) != SG_OK) ++errors;
      std::this_thread::yield();
    }
    sg_comment_free(c);
  });
  for (auto& th : threads) th.join();
  stop = true;
  teacher.join();
  BOOST_TEST(errors.load() == 0);
  BOOST_TEST(learned_hits.load() > 0);
  sg_engine_close(engine);
  std::string rm = std::string("rm -rf ") + dir;
  BOOST_TEST(system(rm.c_str()) == 0);
}

BOOST_AUTO_TEST_CASE(error_messages_are_per_thread) {
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        std::string name = "thread" + std::to_string(t) + ".cf";
        sg_engine* e = nullptr;
        if (sg_engine_open_string(&e, "bogus\n", 6, name.c_str(), nullptr) != SG_EPARSE) ++wrong;
        if (std::string(sg_error_message()).rfind(name + ":1:", 0) != 0) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  BOOST_TEST(wrong.load() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
