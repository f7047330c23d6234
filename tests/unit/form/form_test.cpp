// Signed comment-form tokens: the format refuses every alteration, and the
// engine scores missing, forged, misplaced, hurried, stale and replayed
// tokens and a filled honeypot as ordinary check rules.
#include <boost/test/unit_test.hpp>

#include "../engine_util.h"
#include "../test_util.h"

#include <sys/stat.h>

#include <unistd.h>

#include <ctime>
#include <fstream>
#include <string>

#include "engine/engine.h"
#include "form/form_token.h"

using namespace spamguard;
using namespace spamguard::engine;

namespace {

using sgtest::TempDir;

const char kRules[] =
    "form_min_seconds 3\nform_max_seconds 3600\nform_max_uses 2\n"
    "check NO_TOKEN form_no_token\ncheck MALFORMED form_malformed\ncheck FORGED form_forged\n"
    "check OTHER_POST form_other_post\ncheck TOO_FAST form_too_fast\ncheck TOO_OLD form_too_old\n"
    "check REPLAYED form_replayed\ncheck HONEYPOT form_honeypot\n";

std::unique_ptr<Engine> Open(const std::string& db, const std::string& extra = "") {
  return sgtest::OpenEngine(kRules + extra, db);
}

comment::Comment Posted(const std::string& post, const std::string& token, int64_t at, bool with_form = true) {
  comment::Comment c;
  c.fields[SG_FIELD_IP] = "192.0.2.1";
  c.fields[SG_FIELD_BODY] = "A thoughtful reply";
  c.fields[SG_FIELD_POST_ID] = post;
  c.fields[SG_FIELD_FORM_TOKEN] = token;
  c.form = with_form;
  c.time = at;
  return c;
}

std::string Names(const Verdict& v) {
  std::string s;
  for (const auto& h : v.hits) s += (h.rule >= 0 ? v.rules->rules()[size_t(h.rule)].name : h.name) + " ";
  return s;
}

std::string Token(const Engine& e, const std::string& post, int64_t at) {
  std::string t;
  Status st = e.FormToken(post, at, &t);
  BOOST_REQUIRE_MESSAGE(st.ok(), st.message());
  return t;
}

const int64_t T0 = 1790000000;

}  // namespace

BOOST_AUTO_TEST_SUITE(forms)

BOOST_AUTO_TEST_CASE(every_altered_character_is_refused) {
  const std::vector<form::Secret> secrets = {{7, std::string(32, 'k')}};
  const std::string t = form::Issue(secrets[0], "post-1", T0, 0x0123456789abcdefULL);
  BOOST_TEST(t.size() == form::kTokenChars);
  form::Token tok;
  std::string why;
  BOOST_TEST((form::Verify(t, "post-1", secrets, &tok, &why) == form::Outcome::kValid));
  BOOST_TEST(tok.issued == T0);
  BOOST_TEST(tok.secret_id == 7u);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t tried = 0, accepted = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    for (char c : alphabet) {
      if (c == t[i]) continue;
      std::string bad = t;
      bad[i] = c;  // every bit of every character is one of the 45 signed or tag bytes
      ++tried;
      if (form::Verify(bad, "post-1", secrets, &tok, &why) == form::Outcome::kValid) ++accepted;
    }
  }
  BOOST_TEST(tried == 60u * 63u);
  BOOST_TEST(accepted == 0u);
}

BOOST_AUTO_TEST_CASE(malformed_tokens_are_told_apart_from_forged_ones) {
  const std::vector<form::Secret> secrets = {{1, std::string(32, 'a')}};
  const std::string t = form::Issue(secrets[0], "9", T0, 1);
  form::Token tok;
  std::string why;
  auto verify = [&](const std::string& s, const std::string& post = "9") {
    return form::Verify(s, post, secrets, &tok, &why);
  };
  BOOST_TEST((verify(t.substr(0, 59)) == form::Outcome::kMalformed));           // truncated
  BOOST_TEST((verify(t + "A") == form::Outcome::kMalformed));                   // extended
  BOOST_TEST((verify(std::string(10240, 'A')) == form::Outcome::kMalformed));   // 10 KB
  BOOST_TEST((verify(t.substr(0, 30) + '\0' + t.substr(31)) == form::Outcome::kMalformed));  // NUL byte
  BOOST_TEST((verify(t.substr(0, 59) + "=") == form::Outcome::kMalformed));     // not base64url
  BOOST_TEST((verify(t.substr(0, 59) + "+") == form::Outcome::kMalformed));
  BOOST_TEST(why.find("byte 60") != std::string::npos);
  BOOST_TEST((verify("") == form::Outcome::kMalformed));
  // Another secret, another post.
  const std::string other = form::Issue({1, std::string(32, 'b')}, "9", T0, 1);
  BOOST_TEST((verify(other) == form::Outcome::kForged));
  BOOST_TEST((verify(form::Issue({2, std::string(32, 'a')}, "9", T0, 1)) == form::Outcome::kForged));  // unknown id
  BOOST_TEST((verify(t, "10") == form::Outcome::kOtherPost));
  BOOST_TEST((verify(t, std::string("9\0", 2)) == form::Outcome::kOtherPost));
  // A post id of 1 MB is hashed like any other.
  const std::string big(1 << 20, 'p');
  BOOST_TEST((verify(form::Issue(secrets[0], big, T0, 2), big) == form::Outcome::kValid));
  BOOST_TEST((verify(form::Issue(secrets[0], big, T0, 2), big.substr(1)) == form::Outcome::kOtherPost));
}

BOOST_AUTO_TEST_CASE(the_engine_scores_each_way_a_form_can_go_wrong) {
  TempDir d;
  auto e = Open(d.File("s.db"));
  const std::string t = Token(*e, "42", T0);
  auto score = [&](const comment::Comment& c) {
    Verdict v;
    e->Score(c, &v);
    return Names(v);
  };
  BOOST_TEST(score(Posted("42", t, T0 + 20)) == "");                 // a person: shown, read, typed
  BOOST_TEST(score(Posted("42", Token(*e, "42", T0), T0 + 1)) == "TOO_FAST ");    // a second after the page
  BOOST_TEST(score(Posted("42", Token(*e, "42", T0), T0 - 30)) == "TOO_FAST ");   // a clock went back
  BOOST_TEST(score(Posted("42", Token(*e, "42", T0), T0 + 3601)) == "TOO_OLD ");  // over form_max_seconds
  BOOST_TEST(score(Posted("43", Token(*e, "42", T0), T0 + 20)) == "OTHER_POST ");
  BOOST_TEST(score(Posted("42", "", T0 + 20)) == "NO_TOKEN ");
  BOOST_TEST(score(Posted("42", "x", T0 + 20)) == "MALFORMED ");
  std::string flipped = t;
  flipped[40] = flipped[40] == 'A' ? 'B' : 'A';
  BOOST_TEST(score(Posted("42", flipped, T0 + 20)) == "FORGED ");
  // No token field at all: the blog does not use forms (an old dump, a
  // plain API caller): nothing is held against the comment.
  BOOST_TEST(score(Posted("42", "", T0 + 20, false)) == "");
  // Trackbacks and pingbacks have no form.
  comment::Comment tb = Posted("42", "", T0 + 20);
  tb.kind = comment::Kind::kTrackback;
  BOOST_TEST(score(tb).find("NO_TOKEN") == std::string::npos);
  // The honeypot, with what it held shown.
  comment::Comment pot = Posted("42", Token(*e, "42", T0), T0 + 20);
  pot.fields[SG_FIELD_HONEYPOT] = std::string("http://spam.example/\0\x01", 22);
  Verdict v;
  e->Score(pot, &v);
  BOOST_TEST(Names(v) == "HONEYPOT ");
  BOOST_TEST(v.hits[0].match == "the hidden field held 'http://spam.example/\?\?'");  // NUL and U+0001 shown as '?'
}

BOOST_AUTO_TEST_CASE(a_token_used_more_than_max_uses_is_replayed_and_the_uses_are_shared) {
  TempDir d;
  auto a = Open(d.File("s.db"));
  auto b = Open(d.File("s.db"));  // another process's engine on the same file
  const std::string t = Token(*a, "7", T0);
  std::string seen;
  for (int i = 0; i < 4; ++i) {
    Verdict v;
    (i % 2 ? b : a)->Score(Posted("7", t, T0 + 10 + i), &v);
    seen += Names(v) + "|";
  }
  BOOST_TEST(seen == "||REPLAYED |REPLAYED |");
  // Sent at once and a replay: each hit says its own part.
  Verdict both;
  a->Score(Posted("7", t, T0 + 1), &both);
  BOOST_REQUIRE(Names(both) == "TOO_FAST REPLAYED ");
  BOOST_TEST(both.hits[0].match == "sent 1 s after the form was shown (under 3 s)");
  BOOST_TEST(both.hits[1].match == "the token was used 5 times (at most 2)");
  // A fresh token of the same post is its own.
  Verdict v;
  a->Score(Posted("7", Token(*a, "7", T0), T0 + 10), &v);
  BOOST_TEST(Names(v) == "");
}

BOOST_AUTO_TEST_CASE(rotation_keeps_tokens_of_the_previous_secret_for_their_lifetime) {
  TempDir d;
  auto a = Open(d.File("s.db"));
  auto b = Open(d.File("s.db"));
  const int64_t now = int64_t(time(nullptr));
  const std::string before = Token(*a, "1", now - 100);
  Verdict v;
  b->Score(Posted("1", before, now), &v);  // b reads the first secret
  BOOST_TEST(Names(v) == "");
  BOOST_REQUIRE(a->RotateFormSecret(now).ok());
  const std::string after = Token(*a, "1", now - 100);
  BOOST_TEST(after.substr(0, 7) != before.substr(0, 7));  // another secret id
  // b has not read the new secret yet: a token naming it makes b look again
  // (at most once a second; a token is at least form_min_seconds old when
  // it comes back, so b has read the secret since it was made).
  usleep(1100 * 1000);
  b->Score(Posted("1", after, now), &v);
  BOOST_TEST(Names(v) == "");
  b->Score(Posted("1", Token(*a, "1", now - 50), now), &v);
  BOOST_TEST(Names(v) == "");
  // The old secret still verifies what it signed.
  a->Score(Posted("1", before, now), &v);
  BOOST_TEST(Names(v) == "");
  // Two rotations later, more than form_max_seconds after the first secret
  // was replaced, it is forgotten: its tokens could only be too old anyway.
  BOOST_REQUIRE(a->RotateFormSecret(now + 3601).ok());
  auto c = Open(d.File("s.db"));
  c->Score(Posted("1", before, now + 10), &v);
  BOOST_TEST(Names(v) == "FORGED ");
  c->Score(Posted("1", after, now + 10), &v);  // the second secret was replaced just now
  BOOST_TEST(Names(v) == "");
}

BOOST_AUTO_TEST_CASE(without_a_database_a_configured_secret_signs_and_verifies) {
  auto e = Open("none", "form_secret correct horse battery staple\n");
  auto f = Open("none", "form_secret correct horse battery staple\n");
  auto g = Open("none", "form_secret another secret of some length\n");
  const std::string t = Token(*e, "5", T0);
  Verdict v;
  f->Score(Posted("5", t, T0 + 10), &v);
  BOOST_TEST(Names(v) == "");
  g->Score(Posted("5", t, T0 + 10), &v);
  BOOST_TEST(Names(v) == "FORGED ");
  BOOST_TEST(e->RotateFormSecret(0).code() == SG_EINVAL);  // rotated by changing the file
  // Uses are counted in the process.
  for (int i = 0; i < 3; ++i) f->Score(Posted("5", t, T0 + 10), &v);
  BOOST_TEST(Names(v) == "REPLAYED ");
  // No database and no secret: no token can be made, and a token is not
  // held against a comment (the verdict says state was missing).
  auto n = Open("none");
  std::string out;
  Status st = n->FormToken("5", T0, &out);
  BOOST_TEST(!st.ok());
  BOOST_TEST(st.message().find("form_secret") != std::string::npos);
  n->Score(Posted("5", t, T0 + 10), &v);
  BOOST_TEST(Names(v) == "FORM_UNCHECKED ");  // said, with 0 points
  BOOST_TEST(v.score == 0);
  BOOST_TEST(v.hits[0].match.find("form_secret") != std::string::npos, v.hits[0].match);
  BOOST_TEST((v.flags & SG_FLAG_STATE_UNAVAILABLE) != 0);
  n->Score(Posted("5", "", T0 + 10), &v);
  BOOST_TEST(Names(v) == "NO_TOKEN ");
}

BOOST_AUTO_TEST_CASE(form_secret_file_and_settings_are_checked) {
  TempDir d;
  {
    std::ofstream(d.File("secret")) << "0123456789abcdef0123\nignored\n";
    std::ofstream(d.File("short")) << "tooshort\n";
    std::ofstream(d.File("a.cf")) << kRules << "form_secret_file secret\n";
    std::ofstream(d.File("b.cf")) << kRules << "form_secret_file short\n";
    std::ofstream(d.File("c.cf")) << kRules << "form_secret_file " << d.path << "\n";
    std::ofstream(d.File("d.cf")) << "form_secret tooshort\n";
    std::ofstream(d.File("e.cf")) << "form_min_seconds -1\n";
  }
  Options o;
  o.database = "none";
  std::unique_ptr<Engine> e;
  BOOST_REQUIRE(Engine::OpenFile(d.File("a.cf"), o, &e).ok());
  auto same = Open("none", "form_secret 0123456789abcdef0123\n");
  Verdict v;
  same->Score(Posted("1", Token(*e, "1", T0), T0 + 5), &v);
  BOOST_TEST(Names(v) == "");
  Status st = Engine::OpenFile(d.File("b.cf"), o, &e);
  BOOST_TEST(st.message().find("b.cf:12: form_secret_file") != std::string::npos, st.message());
  BOOST_TEST(st.message().find("fewer than 16 bytes") != std::string::npos);
  st = Engine::OpenFile(d.File("c.cf"), o, &e);
  BOOST_TEST(st.message().find("not a regular file") != std::string::npos, st.message());
  st = Engine::OpenFile(d.File("d.cf"), o, &e);
  BOOST_TEST(st.message().find("d.cf:1: form_secret") != std::string::npos, st.message());
  st = Engine::OpenFile(d.File("e.cf"), o, &e);
  BOOST_TEST(st.message().find("e.cf:1: form_min_seconds") != std::string::npos, st.message());
}

BOOST_AUTO_TEST_CASE(the_secret_is_made_once_and_kept_private_in_the_database) {
  TempDir d;
  auto a = Open(d.File("s.db"));
  const std::string t1 = Token(*a, "1", T0);
  auto b = Open(d.File("s.db"));
  const std::string t2 = Token(*b, "1", T0);
  BOOST_TEST(t1.substr(0, 7) == t2.substr(0, 7));  // the same secret id
  BOOST_TEST(t1 != t2);                            // another nonce
  struct stat st;
  BOOST_REQUIRE(::stat(d.File("s.db").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  // A read-only engine verifies with it (and counts uses in the rate-limit
  // file beside, as it charges rate limits there).
  Options ro;
  ro.database = d.File("s.db");
  ro.read_only = true;
  std::unique_ptr<Engine> r;
  BOOST_REQUIRE(Engine::OpenString(kRules, "t.cf", ro, &r).ok());
  Verdict v;
  r->Score(Posted("1", t1, T0 + 10), &v);
  BOOST_TEST(Names(v) == "");
  r->Score(Posted("1", t1.substr(0, 59) + (t1[59] == 'A' ? "B" : "A"), T0 + 10), &v);
  BOOST_TEST(Names(v) == "FORGED ");  // what it can check, it checks
}

BOOST_AUTO_TEST_CASE(a_token_whose_uses_cannot_be_counted_is_said_not_held) {
  TempDir d;
  // The rate-limit file beside the database cannot be opened (a folder in
  // its place): the token is verified, its use not counted, and the
  // verdict says so with no points.
  BOOST_REQUIRE(::mkdir(d.File("s.db-rates").c_str(), 0700) == 0);
  auto e = Open(d.File("s.db"));
  Verdict v;
  e->Score(Posted("1", Token(*e, "1", T0), T0 + 10), &v);
  BOOST_TEST(Names(v) == "FORM_UNCHECKED ");
  BOOST_TEST(v.score == 0);
  BOOST_TEST(v.hits[0].match.find("its uses could not be counted") != std::string::npos, v.hits[0].match);
  BOOST_TEST((v.flags & SG_FLAG_STATE_UNAVAILABLE) != 0);
  e->Score(Posted("2", Token(*e, "1", T0), T0 + 10), &v);
  BOOST_TEST(Names(v) == "OTHER_POST ");  // what can be checked still is
}

BOOST_AUTO_TEST_SUITE_END()
