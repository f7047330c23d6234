// The command's JSON Lines record parser: the single-pass scanner for flat
// objects must give exactly what the full JSON parser gives, and leave
// everything else to it.
#include <boost/test/unit_test.hpp>
#include <cstdint>
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

// ISO 8601 times as the standard and RFC 3339 (section 5.8's examples) write
// them: offsets with and without a colon, the basic format, calendar checks.
BOOST_AUTO_TEST_CASE(iso8601_times) {
  auto at = [](const std::string& s) {
    int64_t t = 0;
    return sgcli::ParseTime(s, &t) ? t : INT64_MIN;
  };
  BOOST_TEST(at("1985-04-12T23:20:50.52Z") == 482196050);
  BOOST_TEST(at("1996-12-19T16:39:57-08:00") == 851042397);
  BOOST_TEST(at("1990-12-31T23:59:60Z") == 662688000);  // a leap second
  BOOST_TEST(at("1990-12-31T15:59:60-08:00") == 662688000);
  BOOST_TEST(at("1937-01-01T12:00:27.87+00:20") == -1041337173);
  BOOST_TEST(at("2024-01-01T10:00:00+05:30") == 1704083400);
  BOOST_TEST(at("2024-01-01T10:00:00+0530") == 1704083400);  // no colon: not +05:00
  BOOST_TEST(at("2024-01-01T10:00+05") == 1704083400 + 30 * 60);
  BOOST_TEST(at("20240101T100000+0530") == 1704083400);      // basic format
  BOOST_TEST(at("2024-01-01 04:30:00,5z") == 1704083400);
  BOOST_TEST(at("2024-02-29") == 1709164800);
  BOOST_TEST(at("2000-01-01T24:00:00Z") == 946771200);  // the next midnight
  BOOST_TEST(at("2000-02-29") != INT64_MIN);
  for (const char* bad : {"2023-02-29", "1900-02-29", "2024-02-31", "2024-04-31", "2024-13-01", "2024-00-10",
                          "2024-01-01T25:00Z", "2024-01-01T24:01Z", "2024-01-01T10:60Z", "2024-01-01T10:00:61Z",
                          "2024-01-01T10:00+24:00", "2024-01-01T10:00+05:60", "2024-01-01T10:00:00.Z",
                          "2024-01-01T10:00:00+5", "2024-1-01", "2024-01-01T", "2024-0101", "2024-01-01Tx",
                          "yesterday", "", "2024-01-01T10:00:00 Z"})
    BOOST_TEST(at(bad) == INT64_MIN, bad);
}

BOOST_AUTO_TEST_SUITE_END()
