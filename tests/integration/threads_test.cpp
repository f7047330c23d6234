// One sg_engine shared by several threads: every thread gets exactly the
// verdicts a single thread gets.
#include <boost/test/unit_test.hpp>

#include <atomic>
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
