// A comment record read from a dump, and its conversion to an sg_comment.
// Uses only the public C API.
#pragma once

#include <cstdint>
#include <string>

#include "spamguard/spamguard.h"

namespace sgcli {

struct Record {
  std::string id, kind = "comment", author, email, url, ip, user_agent, referrer, body;
  std::string post_id, permalink, blog_name, title, excerpt, source_url, created, label;
  std::string forwarded_for;  // X-Forwarded-For as received (believed from a trusted_proxy only)
  std::string form_token, honeypot;  // what the comment form carried back
  bool has_form_token = false;       // the record says whether its form had a token (even "")
  int64_t time = 0;  // parsed from `created`, 0 when absent
};

// Parses an ISO 8601 time: YYYY-MM-DD or YYYYMMDD, optionally [T ]hh:mm[:ss[.frac]]
// (or the basic hhmm[ss]), then Z, +hh:mm, +hhmm or +hh (UTC when no zone);
// checked against the calendar. Returns false when it does not parse.
bool ParseTime(const std::string& s, int64_t* out);

// Maps "comment"/"trackback"/"pingback" (case-insensitive, "" = comment).
int KindOf(const std::string& s);

// Fills `c` (reset first) from the record. Returns the first failing status.
int ToComment(const Record& r, sg_comment* c);

// Parses one JSON object (a line of JSON Lines) into a record. On failure
// returns false with a reason.
// Flat objects of strings (the usual shape) are read by a single-pass
// scanner; anything else goes through a full JSON parser.
bool ParseJsonRecord(const std::string& line, Record* out, std::string* error);
// The full parser alone (for tests that compare the two).
bool ParseJsonRecordFull(const std::string& line, Record* out, std::string* error);

}  // namespace sgcli
