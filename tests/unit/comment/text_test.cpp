#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "comment/domains.h"
#include "comment/text.h"

using namespace spamguard::comment;

BOOST_AUTO_TEST_SUITE(comment)

BOOST_AUTO_TEST_CASE(sanitize_keeps_valid_utf8_and_nul) {
  std::string in("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 a\0b", 15);
  std::string out;
  BOOST_TEST(!SanitizeUtf8(in, &out));
  BOOST_TEST(out == in);
  BOOST_TEST(out.size() == 15u);
}

BOOST_AUTO_TEST_CASE(sanitize_replaces_each_invalid_form) {
  const char* bad[] = {
      "\xC0\xAF",          // overlong '/'
      "\xE0\x80\xAF",      // overlong 3-byte
      "\xED\xA0\x80",      // surrogate
      "\xF4\x90\x80\x80",  // above U+10FFFF
      "\xFF",              // never valid
      "\xC3",              // truncated sequence
      "\x80",              // lone continuation
  };
  for (const char* b : bad) {
    std::string out;
    BOOST_TEST(SanitizeUtf8(std::string("x") + b + "y", &out), "not flagged: " << b);
    BOOST_TEST(out.front() == 'x');
    BOOST_TEST(out.back() == 'y');
    BOOST_TEST(out.find("\xEF\xBF\xBD") != std::string::npos);
    std::string again;
    BOOST_TEST(!SanitizeUtf8(out, &again));  // the repaired text is valid
  }
}

BOOST_AUTO_TEST_CASE(cap_backs_off_to_character_boundary) {
  std::string_view out;
  BOOST_TEST(CapBytes("h\xC3\xA9llo", 2, &out));
  BOOST_TEST(out == "h");
  BOOST_TEST(!CapBytes("abc", 3, &out));
  BOOST_TEST(out == "abc");
}

BOOST_AUTO_TEST_CASE(entities_decode) {
  std::string out;
  BOOST_TEST(DecodeEntities("a&amp;b &#118;&#x69;agra &eacute; &bogus; &#0; & x", &out) == 5u);
  BOOST_TEST(out == "a&b viagra \xC3\xA9 &bogus; \xEF\xBF\xBD & x");
}

// The HTML standard's own examples ("named character references", "numeric
// character reference end state"): the full named table, legacy names
// without ';' decoded by longest prefix, numeric references of any length,
// C1 numbers read as Windows-1252, out-of-range numbers as U+FFFD.
BOOST_AUTO_TEST_CASE(entities_as_the_html_standard_reads_them) {
  auto decode = [](std::string_view in) {
    std::string out;
    DecodeEntities(in, &out);
    return out;
  };
  BOOST_TEST(decode("&#00000000118;iagra") == "viagra");
  BOOST_TEST(decode("&#x000000000000076;iagra") == "viagra");
  BOOST_TEST(decode("I'm &notit; I tell you") == "I'm \xC2\xACit; I tell you");
  BOOST_TEST(decode("I'm &notin; I tell you") == "I'm \xE2\x88\x89 I tell you");
  BOOST_TEST(decode("&copy2020") == "\xC2\xA9" "2020");
  BOOST_TEST(decode("&CounterClockwiseContourIntegral;") == "\xE2\x88\xB3");
  BOOST_TEST(decode("&NotEqualTilde;") == "\xE2\x89\x82\xCC\xB8");  // two code points
  BOOST_TEST(decode("&Afr;") == "\xF0\x9D\x94\x84");                // outside the BMP
  BOOST_TEST(decode("&#x80;&#150;&#x9F;") == "\xE2\x82\xAC\xE2\x80\x93\xC5\xB8");
  BOOST_TEST(decode("&#x110000;&#99999999999999999999;&#xD800;") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  BOOST_TEST(decode("&nosuchname; &; &#; &#x;") == "&nosuchname; &; &#; &#x;");
  BOOST_TEST(decode("AT&T &amp") == "AT&T &");
}

BOOST_AUTO_TEST_CASE(visible_text_strips_tags_and_extracts_links) {
  std::string text;
  std::vector<std::string> links;
  VisibleText("<p>Buy <b>vi</b>agra <a href=\"http://x.example/?a=1&amp;b=2\">here</a></p><!-- hidden -->"
              "[url=http://bb.example]bb[/url] [url]http://bb2.example/p[/url] <img src='http://img.example/i.png'>",
              &text, &links);
  BOOST_TEST(text.find("viagra") != std::string::npos);
  BOOST_TEST(text.find("hidden") == std::string::npos);
  BOOST_TEST(text.find("<") == std::string::npos);
  BOOST_REQUIRE(links.size() == 4u);
  BOOST_TEST(links[0] == "http://x.example/?a=1&b=2");
  BOOST_TEST(links[1] == "http://bb.example");
  BOOST_TEST(links[2] == "http://bb2.example/p");
  BOOST_TEST(links[3] == "http://img.example/i.png");
}

BOOST_AUTO_TEST_CASE(unclosed_angle_bracket_is_text) {
  std::string text;
  std::vector<std::string> links;
  VisibleText("a < b and c<d", &text, &links);
  BOOST_TEST(text == "a < b and c<d");
}

BOOST_AUTO_TEST_CASE(plain_links) {
  std::vector<std::string> links;
  std::string stripped;
  FindPlainLinks("see http://a.example/x, and www.b.example. Also HTTPS://C.example/y?q=1) end", &links, &stripped);
  BOOST_REQUIRE(links.size() == 3u);
  BOOST_TEST(links[0] == "http://a.example/x");
  BOOST_TEST(links[1] == "www.b.example");
  BOOST_TEST(links[2] == "HTTPS://C.example/y?q=1");
  BOOST_TEST(stripped.find("example") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(normalize_link) {
  std::string out;
  BOOST_TEST(NormalizeLink("  HTTP://WWW.Example.COM/Path?Q  ", &out));
  BOOST_TEST(out == "http://www.example.com/Path?Q");
  BOOST_TEST(NormalizeLink("www.Example.org", &out));
  BOOST_TEST(out == "http://www.example.org");
  BOOST_TEST(NormalizeLink("//cdn.example.net/a", &out));
  BOOST_TEST(out == "http://cdn.example.net/a");
  BOOST_TEST(!NormalizeLink("mailto:a@example.com", &out));
  BOOST_TEST(!NormalizeLink("javascript:alert(1)", &out));
  BOOST_TEST(!NormalizeLink("/relative/path", &out));
  BOOST_TEST(!NormalizeLink("http://", &out));
}

BOOST_AUTO_TEST_CASE(bare_domains) {
  BOOST_TEST(CountBareDomains("visit zonepa.com today") == 1u);
  BOOST_TEST(CountBareDomains("marketglory . com/game") == 1u);
  BOOST_TEST(CountBareDomains("mail me at me@example.com") == 0u);
  BOOST_TEST(CountBareDomains("e.g. this, i.e. that, version 2.0, node.js") == 0u);
  // Any top-level domain of the Public Suffix List, not a fixed few.
  BOOST_TEST(CountBareDomains("get it at prizes.icu or deals.click, you.win") == 3u);
  BOOST_TEST(CountBareDomains("SHOP.COM and Mysite.Com") == 2u);
  BOOST_TEST(CountBareDomains("run setup.exe then open index.html") == 0u);
  // A capital after a full stop and a space starts a sentence.
  BOOST_TEST(CountBareDomains("That was it. Now we wait. Best wishes. To the next!") == 0u);
}

BOOST_AUTO_TEST_CASE(public_suffixes) {
  BOOST_TEST(IsPublicSuffix("com"));
  BOOST_TEST(IsPublicSuffix("co.uk"));
  BOOST_TEST(IsPublicSuffix("icu"));
  BOOST_TEST(!IsPublicSuffix("example"));
  BOOST_TEST(!IsPublicSuffix("example.com"));
}

BOOST_AUTO_TEST_CASE(collapse_space) {
  std::string out;
  CollapseSpace("  a \t\n b\xC2\xA0\xC2\xA0" "c\xEF\xBB\xBF  ", &out);
  BOOST_TEST(out == "a b c");
}

BOOST_AUTO_TEST_CASE(names_written_as_names) {
  for (const char* yes : {"Min-jun Seo", "Anna Sale", "Steve Jobs", "Jean-Pierre O'Neil", "Dr. Ana Law", "J. Smith",
                          "Olu Bola", "\xC5\x81ukasz M\xC3\xBCller", "\xD0\x90\xD0\xBD\xD0\xBD\xD0\xB0", "\xEA\xB9\x80",
                          "Anna", "Mary Anne O\xE2\x80\x99" "Brien"})
    BOOST_TEST(LooksLikeName(yes), yes);
  for (const char* no : {"", "SEO Company", "seo services", "Buy Now!!!", "cheap boots", "anna", "A B C D E",
                         "Best-- Deals", "John Smith 123", "Shop.com", "Anna-"})
    BOOST_TEST(!LooksLikeName(no), no);
}

BOOST_AUTO_TEST_SUITE_END()
