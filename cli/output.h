// Small text helpers the command's subcommands share: printing verdicts,
// JSON and CSV quoting. Over the public C API only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "spamguard/spamguard.h"

namespace sgcli {

// Length of the valid UTF-8 sequence at s[i] (of len bytes), with its code
// point in *cp; 0 when the bytes there are not UTF-8.
size_t Utf8At(const unsigned char* s, size_t len, size_t i, uint32_t* cp);
// The bidirectional overrides, embeddings, isolates and marks: characters
// that reorder the text around them.
bool IsBidiControl(uint32_t cp);
// Control characters (C0, DEL, C1), bidirectional overrides and bytes that
// are not UTF-8 become spaces or '?', and text over `max` bytes is cut with
// "...": safe to print on one terminal line.
std::string Printable(const char* s, size_t len, size_t max);
// Printable for a message (an error may quote a rule file or a dump).
std::string Shown(const char* s);
// "%.2f"
std::string Fmt(double v);
// "%.*f" ("%+.*f" with sign) for any double, in the C locale; 0 for a
// non-finite one.
std::string FixedNumber(double v, int decimals, bool sign = false);
// part / whole as "0.830", and as "0.54 %"; "n/a" when whole is 0 (the
// learning curve's recall and false-positive rate).
std::string RatioText(size_t part, size_t whole);
std::string PercentText(size_t part, size_t whole);
// "spamguard: WHERE: skipped: WHY\n" for a malformed record. The reason
// may quote the record, so both go through Printable.
std::string SkipMessage(const std::string& where, const std::string& why);
// A JSON string literal.
std::string JsonQuote(const std::string& s);
// A CSV field, quoted when it needs to be (RFC 4180).
std::string CsvField(const std::string& s);
// The verdict as JSON (sg_result_to_json), "{}" if that fails.
std::string ResultJson(const sg_result* r);
// The verdict, one hit per line, for people.
std::string VerdictText(const std::string& id, const sg_result* r);
// "RULE(+2.50) OTHER(-1.00)": the hits on one line.
std::string HitList(const sg_result* r);
// "2026-11-28 08:15 UTC"; "never" for 0.
std::string FormatTime(int64_t unix_seconds);

}  // namespace sgcli
