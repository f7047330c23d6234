// Crash safety: processes are SIGKILLed while learning and importing lists,
// hundreds of times. Afterwards the file passes SQLite's integrity check and
// every learn and import that was acknowledged to its caller is there.
//
// The kill points are decided by what the child has acknowledged, not by the
// clock: a learn round is killed after a chosen number of acknowledged
// learns, an import round either once the import was acknowledged or as soon
// as it began. So the test asks the same of a busy machine (or a sanitizer
// build) as of an idle one.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <string>

#include "spamguard/spamguard.h"

namespace {

[[noreturn]] void Child(const std::string& rules, const std::string& list, int round, int fd) {
  sg_engine* e = nullptr;
  if (sg_engine_open(&e, rules.c_str(), nullptr) != SG_OK || !sg_engine_has_state(e)) _exit(1);
  sg_comment* c = nullptr;
  sg_comment_new(&c);
  for (int i = 0;; ++i) {
    std::string ack;
    if (round % 10 == 0 && i % 50 == 0) {
      std::string source = "src" + std::to_string(round);
      std::string begin = "begin " + source + "\n";
      if (write(fd, begin.data(), begin.size()) != ssize_t(begin.size())) _exit(3);
      sg_import_report* rep = nullptr;
      if (sg_engine_list_import(&rep, e, SG_LIST_BLOCK, list.c_str(), source.c_str(), nullptr, 0) == SG_OK)
        ack = "import " + source + "\n";
      sg_import_report_free(rep);
    } else {
      std::string id = "r" + std::to_string(round) + "-" + std::to_string(i);
      std::string ip = "192.0.2." + std::to_string(i % 200);
      sg_comment_reset(c);
      sg_comment_set_field(c, SG_FIELD_ID, id.data(), id.size());
      sg_comment_set_field(c, SG_FIELD_IP, ip.data(), ip.size());
      int rc = sg_engine_learn(e, c, i % 3 ? SG_LABEL_SPAM : SG_LABEL_HAM);
      if (rc == SG_OK) ack = "learn id:" + id + "\n";
      else if (rc != SG_EBUSY) _exit(2);
    }
    if (!ack.empty() && write(fd, ack.data(), ack.size()) != ssize_t(ack.size())) _exit(3);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(integration)

BOOST_AUTO_TEST_CASE(sigkill_while_learning_and_importing) {
  char dir[] = "/tmp/sg_crash_XXXXXX";
  BOOST_REQUIRE(mkdtemp(dir) != nullptr);
  std::string rules = std::string(dir) + "/crash.cf", list = std::string(dir) + "/list.txt";
  std::ofstream(rules) << "database crash.db\nreputation_half_life_days 0\nbody X /x/\n";
  {
    std::ofstream out(list);
    for (int i = 0; i < 5000; ++i) out << "10." << (i >> 8) << "." << (i & 255) << ".0/24\n";
  }
  std::mt19937 rng(11);
  std::set<std::string> learned, imported;
  int rounds = 0, killed = 0;
  for (; rounds < 300; ++rounds) {
    int fds[2];
    BOOST_REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      Child(rules, list, rounds, fds[1]);
    }
    close(fds[1]);
    // Read the child's acknowledgements until the round's kill point.
    // Import rounds: every other one is killed once its first import was
    // acknowledged, the rest right after an import began (so some imports
    // finish and some are cut). Learn rounds: after 0-29 acknowledged learns.
    bool import_round = rounds % 10 == 0, wait_for_import = rounds % 20 == 0;
    size_t learns_wanted = rng() % 30, learns_seen = 0;
    std::string acks;
    size_t pos = 0;
    auto record = [&](const std::string& line) {
      if (line.rfind("learn ", 0) == 0) learned.insert(line.substr(6)), ++learns_seen;
      else if (line.rfind("import ", 0) == 0) imported.insert(line.substr(7));
    };
    bool reached = false;
    char buf[4096];
    ssize_t n;
    while (!reached && (n = read(fds[0], buf, sizeof buf)) > 0) {
      acks.append(buf, size_t(n));
      for (size_t end; !reached && (end = acks.find('\n', pos)) != std::string::npos; pos = end + 1) {
        std::string line = acks.substr(pos, end - pos);
        record(line);
        if (import_round) reached = line.rfind(wait_for_import ? "import " : "begin ", 0) == 0;
        else reached = learns_seen >= learns_wanted;
      }
    }
    BOOST_TEST(reached, "round " << rounds << ": the child stopped before its kill point");
    if (import_round && !wait_for_import) usleep(useconds_t(rng() % 100000));  // somewhere inside the import
    killed += kill(pid, SIGKILL) == 0;
    int status = 0;
    waitpid(pid, &status, 0);
    BOOST_TEST((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)),
               "round " << rounds << " exit " << WEXITSTATUS(status));
    // What the child acknowledged between the kill point and its death counts too.
    while ((n = read(fds[0], buf, sizeof buf)) > 0) acks.append(buf, size_t(n));
    close(fds[0]);
    for (size_t end; (end = acks.find('\n', pos)) != std::string::npos; pos = end + 1)
      record(acks.substr(pos, end - pos));  // a partial last line: the kill came mid-write
  }
  BOOST_TEST_MESSAGE(rounds << " rounds, " << killed << " kills, " << learned.size() << " acknowledged learns, "
                            << imported.size() << " acknowledged imports");
  BOOST_TEST(killed == 300);
  BOOST_TEST(learned.size() > 100u);
  BOOST_TEST(imported.size() >= 15u);  // every other import round waited for its acknowledgement

  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open((std::string(dir) + "/crash.db").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, nullptr);
  BOOST_REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  BOOST_TEST(std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 0))) == "ok");
  sqlite3_finalize(q);
  size_t missing = 0;
  sqlite3_prepare_v2(db, "SELECT 1 FROM learned WHERE cid=?1", -1, &q, nullptr);
  for (const auto& id : learned) {
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    missing += sqlite3_step(q) != SQLITE_ROW;
  }
  sqlite3_finalize(q);
  BOOST_TEST(missing == 0u, missing << " acknowledged learns lost");
  sqlite3_prepare_v2(db, "SELECT count(*) FROM list_entry WHERE source=?1", -1, &q, nullptr);
  for (const auto& src : imported) {
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, src.c_str(), -1, SQLITE_TRANSIENT);
    BOOST_REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    BOOST_TEST(sqlite3_column_int(q, 0) == 5000, src);
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  std::string rm = std::string("rm -rf ") + dir;
  BOOST_TEST(system(rm.c_str()) == 0);
}

// A full disk, made with a file-size limit on the writing process: writes
// fail with an error the caller sees, nothing crashes, and every write that
// reported success is in the file afterwards.
BOOST_AUTO_TEST_CASE(full_disk_gives_errors_and_loses_no_acknowledged_write) {
  char dir[] = "/tmp/sg_full_XXXXXX";
  BOOST_REQUIRE(mkdtemp(dir) != nullptr);
  std::string rules = std::string(dir) + "/full.cf", list = std::string(dir) + "/list.txt";
  std::ofstream(rules) << "database full.db\nbody X /x/\n";
  {
    std::ofstream out(list);
    for (int i = 0; i < 50000; ++i) out << "10." << (i >> 8) << "." << (i & 255) << ".0/24\n";
  }
  {  // create the file at its normal size first
    sg_engine* e = nullptr;
    BOOST_REQUIRE(sg_engine_open(&e, rules.c_str(), nullptr) == SG_OK);
    sg_engine_close(e);
  }
  int fds[2];
  BOOST_REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {512 * 1024, 512 * 1024};  // no file may grow past 512 KiB
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(10);
    sg_engine* e = nullptr;
    if (sg_engine_open(&e, rules.c_str(), nullptr) != SG_OK || !sg_engine_has_state(e)) _exit(11);
    sg_comment* c = nullptr;
    sg_comment_new(&c);
    int failures = 0;
    std::string acks;
    for (int i = 0; i < 20000 && failures < 50; ++i) {
      std::string id = "f" + std::to_string(i) + std::string(200, 'p');  // long ids fill pages fast
      std::string ip = "198.51.100." + std::to_string(i % 250);
      sg_comment_reset(c);
      sg_comment_set_field(c, SG_FIELD_ID, id.data(), id.size());
      sg_comment_set_field(c, SG_FIELD_IP, ip.data(), ip.size());
      int rc = sg_engine_learn(e, c, SG_LABEL_SPAM);
      if (rc == SG_OK) acks += "id:" + id + "\n";
      else if (rc == SG_EIO) ++failures;
      else _exit(12);
    }
    sg_import_report* rep = nullptr;
    int irc = sg_engine_list_import(&rep, e, SG_LIST_BLOCK, list.c_str(), "big", nullptr, 0);
    sg_import_report_free(rep);
    // A scoring call still answers.
    sg_result* r = nullptr;
    int src = sg_engine_score(&r, e, c);
    sg_result_free(r);
    acks += "failures " + std::to_string(failures) + " import " + std::to_string(irc) + " score " + std::to_string(src) +
            " message " + sg_error_message() + "\n";
    if (write(fds[1], acks.data(), acks.size()) != ssize_t(acks.size())) _exit(13);
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  BOOST_REQUIRE(WIFEXITED(status));
  BOOST_REQUIRE_EQUAL(WEXITSTATUS(status), 0);
  size_t tail = out.rfind("failures ");
  BOOST_REQUIRE(tail != std::string::npos);
  std::string summary = out.substr(tail);
  BOOST_TEST_MESSAGE(summary);
  BOOST_TEST(summary.find("failures 50") == 0u, summary);            // the full disk was reported, 50 times
  BOOST_TEST(summary.find("import -4") != std::string::npos, summary);  // SG_EIO, nothing imported
  BOOST_TEST(summary.find("score 0") != std::string::npos, summary);
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open((std::string(dir) + "/full.db").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, nullptr);
  BOOST_REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  BOOST_TEST(std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 0))) == "ok");
  sqlite3_finalize(q);
  size_t acked = 0, missing = 0;
  sqlite3_prepare_v2(db, "SELECT 1 FROM learned WHERE cid=?1", -1, &q, nullptr);
  for (size_t pos = 0; pos < tail;) {
    size_t end = out.find('\n', pos);
    std::string id = out.substr(pos, end - pos);
    pos = end + 1;
    ++acked;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    missing += sqlite3_step(q) != SQLITE_ROW;
  }
  sqlite3_finalize(q);
  sqlite3_prepare_v2(db, "SELECT count(*) FROM list_entry", -1, &q, nullptr);
  BOOST_REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  BOOST_TEST(sqlite3_column_int(q, 0) == 0);  // the failed import left nothing half-done
  sqlite3_finalize(q);
  sqlite3_close(db);
  BOOST_TEST(acked > 10u);
  BOOST_TEST(missing == 0u, missing << " of " << acked << " acknowledged learns lost");
  std::string rm = std::string("rm -rf ") + dir;
  BOOST_TEST(system(rm.c_str()) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
