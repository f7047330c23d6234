// Helpers of the unit tests that open engines.
#pragma once

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>

#include "engine/engine.h"

namespace sgtest {

// An engine on rule text held in memory ("t.cf") and a database ("none":
// no state); the test stops when it does not open.
inline std::unique_ptr<spamguard::engine::Engine> OpenEngine(const std::string& rules, const std::string& db) {
  spamguard::engine::Options o;
  o.database = db;
  std::unique_ptr<spamguard::engine::Engine> e;
  spamguard::Status st = spamguard::engine::Engine::OpenString(rules, "t.cf", o, &e);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  return e;
}

}  // namespace sgtest
