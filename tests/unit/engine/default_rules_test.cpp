// The bundled rule set, data/spamguard.cf: it loads, every rule explains
// itself, and each category it claims to cover fires on a hand-written
// example of that category (and stays quiet on ordinary comments).
#include <boost/test/unit_test.hpp>
#include <set>
#include <string>

#include "engine/engine.h"

using namespace spamguard;
using namespace spamguard::engine;

namespace {

const Engine& Default() {
  static std::unique_ptr<Engine> e = [] {
    std::unique_ptr<Engine> out;
    Options o;
    o.database = "none";  // content rules only
    o.ratelimit_mode = SG_RATELIMIT_OFF;
    Status st = Engine::OpenFile(SG_SOURCE_DIR "/data/spamguard.cf", o, &out);
    if (!st.ok()) BOOST_FAIL(st.message());
    return out;
  }();
  return *e;
}

std::set<std::string> Fired(const comment::Comment& c, double* score = nullptr) {
  Verdict v;
  Default().Score(c, &v);
  std::set<std::string> names;
  for (const auto& h : v.hits) names.insert(h.rule >= 0 ? v.rules->rules()[size_t(h.rule)].name : h.name);
  if (score) *score = v.score;
  return names;
}

std::set<std::string> FiredBody(const std::string& body) {
  comment::Comment c;
  c.fields[SG_FIELD_BODY] = body;
  return Fired(c);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine)

BOOST_AUTO_TEST_CASE(default_rules_load_with_80_described_rules) {
  const auto& rules = Default().rules().rules();
  size_t scoring = 0;
  for (const auto& r : rules) {
    BOOST_TEST(!r.description.empty(), r.name << " has no describe");
    if (!r.Silent()) ++scoring;
  }
  BOOST_TEST(scoring >= 80u, scoring << " scoring rules");
  BOOST_TEST(Default().warnings().empty());
}

BOOST_AUTO_TEST_CASE(each_category_fires_on_an_example) {
  struct Case {
    const char* category;
    const char* body;
    const char* rule;
  } cases[] = {
      {"pharma", "Get generic cialis and tramadol cheap", "SG_PHARMA_DRUGS"},
      {"pharma disguised", "best v!agra deals", "SG_PHARMA_OBFUSCATED"},
      {"no prescription", "meds without a prescription from our canadian pharmacy", "SG_PHARMA_NO_RX"},
      {"diet", "the new raspberry ketone diet pills melt fat", "SG_DIET_PRODUCTS"},
      {"gambling", "claim free spins at the best online casino", "SG_GAMBLING_ONLINE"},
      {"loans", "bad credit loans with instant approval", "SG_LOANS"},
      {"finance", "compare auto insurance quotes and debt consolidation at http://quotes.example/", "SG_COMMERCE_LINK"},
      {"make money", "earn $300 per day working from home", "SG_MAKE_MONEY"},
      {"crypto", "I doubled my bitcoin investment with this trading platform", "SG_CRYPTO_INVEST"},
      {"recovery scam", "a hacker who helped me recover my stolen bitcoin", "SG_RECOVERY_SCAM"},
      {"seo", "affordable seo services and high DA backlinks", "SG_SEO_SERVICES"},
      {"link selling", "we sell dofollow sponsored posts", "SG_SEO_SERVICES"},
      {"adult", "hot webcam girls and live sex cams", "SG_ADULT"},
      {"dating", "meet lonely women near you on our dating site", "SG_DATING"},
      {"replica", "replica rolex and cheap louis vuitton outlet bags", "SG_REPLICA"},
      {"channel promo", "hey guys check out my channel for new videos", "SG_CHECK_MY_MEDIA"},
      {"subscribe", "please subscribe to me and I sub back", "SG_SUBSCRIBE_ME"},
      {"follow", "follow me on instagram", "SG_FOLLOW_ME"},
      {"generic praise", "Great article, keep up the good work!", "SG_GENERIC_PRAISE"},
      {"bot talk", "Is this a paid theme or did you customize it yourself?", "SG_BLOG_BOT_TALK"},
      {"spinner", "This is a fastidious piece of writing", "SG_SPUN_WORDING"},
      {"signature", "Nice read.\n\nmy web page - cheap watches", "SG_MY_SITE_SIG"},
      {"click here", "click here for details", "SG_CLICK_HERE"},
      {"free stuff", "free psn codes generator no survey", "SG_FREE_STUFF"},
      {"entity letters", "buy &#99;&#105;&#97;&#108;&#105;&#115; now", "SG_ENTITY_LETTERS"},
      {"zero width", "vi\xE2\x80\x8B" "agra", "SG_ZERO_WIDTH"},
      {"mixed scripts", "v\xD1\x96" "agra", "SG_MIXED_SCRIPTS"},
      {"link only", "http://spam.example/a http://spam.example/b", "SG_LINK_ONLY"},
      {"many links", "a http://a.example b http://b.example c http://c.example d http://d.example e", "SG_LINKS_3"},
      {"bbcode", "[url=http://x.example]x[/url] nice", "SG_BBCODE_LINK"},
      {"shortener", "look http://bit.ly/abc123 now", "SG_URI_SHORTENER"},
      {"suspicious tld", "visit http://prizes.example.xyz/win now", "SG_URI_SUSPICIOUS_TLD"},
      {"ip host", "see http://192.0.2.10/login", "SG_URI_IP_HOST"},
      {"bare domain", "go to cheapstuff.com today", "SG_DOMAIN_IN_TEXT"},
  };
  for (const auto& c : cases) {
    auto fired = FiredBody(c.body);
    BOOST_TEST(fired.count(c.rule) == 1u, c.category << ": " << c.rule << " did not fire on '" << c.body << "'");
  }
}

BOOST_AUTO_TEST_CASE(identity_and_trackback_rules) {
  comment::Comment c;
  c.fields[SG_FIELD_AUTHOR] = "Payday Loans Online";
  c.fields[SG_FIELD_EMAIL] = "Smith48213@yahoo.com";
  c.fields[SG_FIELD_URL] = "http://forum.example/member.php?u=123";
  c.fields[SG_FIELD_BODY] = "Great post, thanks for sharing!";
  auto fired = Fired(c);
  for (const char* r : {"SG_AUTHOR_KEYWORDS", "SG_EMAIL_NAME_DIGITS", "SG_URL_PROFILE_PAGE", "SG_SPAMMY_IDENTITY",
                        "SG_PRAISE_FROM_SPAMMY"})
    BOOST_TEST(fired.count(r) == 1u, r);

  comment::Comment tb;
  tb.kind = comment::Kind::kTrackback;
  tb.fields[SG_FIELD_BLOG_NAME] = "Casino Bonus";
  tb.fields[SG_FIELD_TITLE] = "Casino Bonus";
  tb.fields[SG_FIELD_SOURCE_URL] = "http://casino.example.win/";
  double score = 0;
  fired = Fired(tb, &score);
  for (const char* r : {"SG_TB_TITLE_IS_BLOG", "SG_TB_EMPTY_EXCERPT", "SG_TB_BLOG_KEYWORDS", "SG_TB_SOURCE_KEYWORDS"})
    BOOST_TEST(fired.count(r) == 1u, r);
  BOOST_TEST(score >= 5.0);
}

BOOST_AUTO_TEST_CASE(ordinary_comments_stay_clean) {
  const char* ham[] = {
      "I tried this on my Raspberry Pi and it worked after installing the headers.",
      "Lovely photos. Where was the second one taken?",
      "Small typo in the third paragraph: 'there' should be 'their'.",
      "We saw the same thing at work; the fix was to raise the file descriptor limit.",
      "Here is the upstream bug report: https://bugs.example.org/show_bug.cgi?id=1234",
  };
  for (const char* b : ham) {
    comment::Comment c;
    c.fields[SG_FIELD_BODY] = b;
    c.fields[SG_FIELD_AUTHOR] = "Jane Doe";
    c.fields[SG_FIELD_IP] = "198.51.100.7";
    double score = 0;
    Fired(c, &score);
    BOOST_TEST(score < 3.0, "'" << b << "' scored " << score);
  }
}

BOOST_AUTO_TEST_SUITE_END()
