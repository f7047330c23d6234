// Comment dumps: JSON Lines, CSV with a header row, Movable Type's export
// format, and WordPress WXR. Each reader streams (memory does not grow with
// the dump), hands over good records one by one, and reports a malformed
// record with its position and goes on.
#pragma once

#include <functional>
#include <istream>
#include <string>

#include "record.h"

namespace sgcli {

// The most one record (a JSON line, a CSV row, a section of an export) may
// hold. A longer one is skipped with its position, reading goes on, and the
// reading then reports failure (the command exits non-zero).
constexpr size_t kMaxRecordBytes = size_t(64) << 20;

struct DumpCallbacks {
  std::function<bool(const Record&)> record;  // false stops the reading
  std::function<void(const std::string& where, const std::string& why)> skip;
  // Optional: called with the stream ReadDump opened, before reading (its
  // position tells how far the reading got).
  std::function<void(std::istream&)> opened;
  // Optional, JSON Lines only: each non-blank line as read, instead of a
  // parsed record, so that the callee can parse on other threads (with
  // ParseJsonLine). false stops the reading.
  std::function<bool(std::string& line, size_t line_no)> jsonl_line;
};

// One line of a JSON Lines dump into a record; a record without an id gets
// "path:line". On failure returns false with the reason.
bool ParseJsonLine(const std::string& line, const std::string& path, size_t line_no, Record* out, std::string* error);

// "jsonl", "csv", "mt" or "wxr", from the file's first bytes; "" when it is
// none of them (the reason in *error).
std::string DetectFormat(const std::string& path, std::string* error);

// Reads `path` ("-": standard input, named "stdin" in positions) in
// `format` ("auto" detects it). Returns false when the whole
// job failed (the file cannot be read, the XML is broken or cut short), with
// a message in *error; records before the failure were delivered.
bool ReadDump(const std::string& path, const std::string& format, const DumpCallbacks& cb, std::string* error);

// The same on a stream already open, in a known format (not "auto"); `name`
// is used in positions.
bool ReadDumpStream(std::istream& in, const std::string& name, const std::string& format, const DumpCallbacks& cb,
                    std::string* error);

}  // namespace sgcli
