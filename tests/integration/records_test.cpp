// The command's JSON Lines record parser: the single-pass scanner for flat
// objects must give exactly what the full JSON parser gives, and leave
// everything else to it.
#include <boost/test/unit_test.hpp>
#include <string>

#include "record.h"

namespace {

struct Parsed {
  bool ok = false;
  std::string error;
  sgcli::Record rec;
};

Parsed Fast(const std::string& line) {
  Parsed p;
  p.ok = sgcli::ParseJsonRecord(line, &p.rec, &p.error);
  return p;
}
Parsed Full(const std::string& line) {
  Parsed p;
  p.ok = sgcli::ParseJsonRecordFull(line, &p.rec, &p.error);
  return p;
}

void Same(const std::string& line) {
  BOOST_TEST_CONTEXT(line) {
    Parsed a = Fast(line), b = Full(line);
    BOOST_TEST(a.ok == b.ok);
    BOOST_TEST(a.error == b.error);
    if (!a.ok || !b.ok) return;
    const sgcli::Record &x = a.rec, &y = b.rec;
    BOOST_TEST(x.id == y.id);
    BOOST_TEST(x.kind == y.kind);
    BOOST_TEST(x.author == y.author);
    BOOST_TEST(x.email == y.email);
    BOOST_TEST(x.url == y.url);
    BOOST_TEST(x.ip == y.ip);
    BOOST_TEST(x.body == y.body);
    BOOST_TEST(x.created == y.created);
    BOOST_TEST(x.label == y.label);
    BOOST_TEST(x.time == y.time);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(records)

BOOST_AUTO_TEST_CASE(fast_and_full_json_parsers_agree) {
  const char* cases[] = {
      R"({"id":"1","body":"hello","label":"spam"})",
      R"(  { "id" : "2" , "type" : "trackback" , "body" : "a\"b\\c\/d\n\t\r\b\f" }  )",
      R"({"id":"3","body":"caf\u00e9 \u20ac \u0041 \u0000 end"})",
      R"({"id":"4","body":"caf\u00e9 \ud83d\ude00 pair"})",   // surrogate pair: full parser
      R"({"id":"5","body":"lone \ud800 surrogate"})",          // invalid
      "{\"id\":\"6\",\"body\":\"raw UTF-8 caf\xC3\xA9 \xF0\x9F\x98\x80\"}",
      "{\"id\":\"7\",\"body\":\"bad UTF-8 \xC3\x28\"}",
      "{\"id\":\"8\",\"body\":\"overlong \xC0\xAF\"}",
      "{\"id\":\"9\",\"body\":\"control \x01 char\"}",
      R"({"id":10,"body":"numeric id"})",
      R"({"id":"11","body":null,"author":"x","kind":"pingback"})",
      R"({"id":"12","type":"","kind":"trackback"})",
      R"({"id":"13","type":"comment","meta":{"a":[1,2]}})",
      R"({"id":"14","body":"dup","body":"last wins"})",
      R"({"id":"15","created":"2024-05-01T12:00:00Z"})",
      R"({"id":"16","created":"yesterday"})",
      R"({"id":"17","type":"ping"})",
      R"({"id":"18",})",
      R"({"id":"19" "body":"x"})",
      R"({"id":"20","body":"unterminated)",
      R"([1,2,3])",
      R"("just a string")",
      R"({})",
      R"({"id":"21"} trailing)",
      R"({"\u0069d":"22","body":"escaped key"})",
      R"({"id":"23","body":"bad escape \x"})",
      R"({"id":"24","body":"short \u12"})",
      R"({"id":"25","ok":true,"n":1.50})",
      "\xEF\xBB\xBF{\"id\":\"26\",\"body\":\"BOM\"}",
      "",
  };
  for (const char* c : cases) Same(c);
}

BOOST_AUTO_TEST_CASE(fast_parser_decodes_escapes) {
  Parsed p = Fast(R"({"id":"x","body":"caf\u00e9 \u20ac\n"})");
  BOOST_TEST_REQUIRE(p.ok);
  BOOST_TEST(p.rec.body == "caf\xC3\xA9 \xE2\x82\xAC\n");
  p = Fast(R"({"id":"x","type":"nonsense"})");
  BOOST_TEST(!p.ok);
  BOOST_TEST(p.error == "unknown type 'nonsense' (comment, trackback or pingback)");
}

BOOST_AUTO_TEST_SUITE_END()
