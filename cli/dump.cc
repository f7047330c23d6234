#include "dump.h"

#include <expat.h>

#include <cctype>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <vector>

#include <sys/stat.h>

namespace sgcli {
namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string Lower(std::string s) {
  for (auto& c : s) c = char(tolower(static_cast<unsigned char>(c)));
  return s;
}

// Sets a record field by a column or element name; false for names that
// carry nothing spamguard reads.
bool SetByName(Record* r, const std::string& name, const std::string& v) {
  const std::string n = Lower(name);
  if (n == "id" || n == "comment_id") r->id = v;
  else if (n == "type" || n == "kind" || n == "comment_type") r->kind = v;
  else if (n == "author" || n == "comment_author" || n == "name") r->author = v;
  else if (n == "email" || n == "comment_author_email") r->email = v;
  else if (n == "url" || n == "comment_author_url") r->url = v;
  else if (n == "ip" || n == "comment_author_ip") r->ip = v;
  else if (n == "user_agent" || n == "comment_agent" || n == "agent") r->user_agent = v;
  else if (n == "referrer") r->referrer = v;
  else if (n == "body" || n == "comment" || n == "content" || n == "text" || n == "comment_content") r->body = v;
  else if (n == "created" || n == "date" || n == "comment_date_gmt") r->created = v;
  else if (n == "label") r->label = v;
  else if (n == "post_id") r->post_id = v;
  else if (n == "permalink") r->permalink = v;
  else if (n == "blog_name") r->blog_name = v;
  else if (n == "title") r->title = v;
  else if (n == "excerpt") r->excerpt = v;
  else if (n == "source_url") r->source_url = v;
  else return false;
  return true;
}

// Checks the kind and the time; false with a reason for a bad record.
bool Finish(Record* r, std::string* why) {
  if (r->kind.empty()) r->kind = "comment";
  if (KindOf(r->kind) == 0) {
    *why = "unknown type '" + r->kind + "' (comment, trackback or pingback)";
    return false;
  }
  if (!r->created.empty() && !ParseTime(r->created, &r->time)) {
    *why = "not a time: '" + r->created + "'";
    return false;
  }
  if (r->time < 0) {
    *why = "a time before 1970-01-01: '" + r->created + "'";
    return false;
  }
  return true;
}

// Reads bytes from a stream with its errors made visible: a read error
// (a directory, an I/O error) or running out of memory is recorded with the
// line it happened on, never taken for the end of the file.
class Bytes {
 public:
  explicit Bytes(std::istream& in) : sb_(in.rdbuf()) {}
  int Get() { return Read(&std::streambuf::sbumpc); }
  int Peek() { return Read(&std::streambuf::sgetc); }
  // One line (without its '\n') of at most kMaxRecordBytes; false at the
  // end or on an error. A longer line is read to its end and *too_long set.
  bool Line(std::string* line, bool* too_long) {
    line->clear();
    *too_long = false;
    bool any = false;
    try {
      for (int c; (c = Get()) != EOF;) {
        any = true;
        if (c == '\n') return true;
        if (line->size() < kMaxRecordBytes) line->push_back(char(c));
        else *too_long = true;
      }
    } catch (const std::bad_alloc&) {
      error_ = "out of memory reading a line of " + std::to_string(line->size()) + " bytes";
      return false;
    }
    return any && error_.empty();
  }
  const std::string& error() const { return error_; }
  void set_error(std::string e) {
    if (error_.empty()) error_ = std::move(e);
  }

 private:
  // The stream buffer's own read (it throws on a read error) with the
  // error kept instead.
  int Read(int (std::streambuf::*op)()) {
    if (!error_.empty()) return EOF;
    try {
      return (sb_->*op)();
    } catch (const std::exception& e) {
      error_ = "read error: " + std::string(e.what());
      return EOF;
    }
  }

  std::streambuf* sb_;
  std::string error_;
};

std::string TooLong(const std::string& what) {
  return what + " longer than " + std::to_string(kMaxRecordBytes >> 20) + " MiB (the most one record may hold)";
}

// What the reading ends with: false and "path:line: reason" for a read
// error; records that broke a bound were skipped and make the run fail too.
bool Done(const Bytes& b, const std::string& path, size_t line_no, const std::string& over, std::string* error) {
  if (!b.error().empty()) {
    *error = path + ":" + std::to_string(line_no) + ": " + b.error() + "; the records after it were not read";
    return false;
  }
  if (!over.empty()) {
    *error = over;
    return false;
  }
  return true;
}

bool ReadJsonl(std::istream& in, const std::string& path, const DumpCallbacks& cb, std::string* read_error) {
  std::string line, error, over;
  size_t line_no = 0;
  Record rec;
  Bytes bytes(in);
  bool too_long = false;
  while (bytes.Line(&line, &too_long)) {
    ++line_no;
    if (too_long) {
      std::string where = path + ":" + std::to_string(line_no);
      cb.skip(where, TooLong("a line"));
      if (over.empty()) over = where + ": " + TooLong("a record") + " was skipped";
      continue;
    }
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (cb.jsonl_line) {
      if (!cb.jsonl_line(line, line_no)) return true;
      continue;
    }
    if (!ParseJsonLine(line, path, line_no, &rec, &error)) {
      cb.skip(path + ":" + std::to_string(line_no), error);
      continue;
    }
    if (!cb.record(rec)) return true;
  }
  return Done(bytes, path, line_no + 1, over, read_error);
}

// RFC 4180: quoted fields with "" escapes and line breaks inside quotes.
// Returns false at the end of the input; *bad is set for a row cut short.
// A row holds at most kMaxCsvFields fields and kMaxRecordBytes bytes (more
// are counted, not kept: *fields and *too_long say so); a quoted field that
// runs past kMaxRecordBytes is an unterminated quote, and ends the reading.
constexpr size_t kMaxCsvFields = 1000;
bool CsvRow(Bytes& in, std::vector<std::string>* row, size_t* line_no, bool* bad, size_t* fields, bool* too_long) {
  row->clear();
  *bad = false;
  *fields = 0;
  *too_long = false;
  std::string field;
  size_t bytes = 0;
  bool quoted = false, any = false, was_quoted = false;
  auto keep = [&](char ch) {
    if (++bytes > kMaxRecordBytes) *too_long = true;
    else field.push_back(ch);
  };
  auto end_field = [&] {
    if (++*fields <= kMaxCsvFields && !*too_long) row->push_back(field);
    field.clear();
  };
  int c;
  while ((c = in.Get()) != EOF) {
    any = true;
    if (quoted) {
      if (c == '"') {
        if (in.Peek() == '"') {
          in.Get();
          keep('"');
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++*line_no;
        keep(char(c));
        if (*too_long) {
          in.set_error("a quoted field longer than " + std::to_string(kMaxRecordBytes >> 20) +
                       " MiB: an unterminated quote?");
          return false;
        }
      }
      continue;
    }
    if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      end_field();
      was_quoted = false;
    } else if (c == '\r' && in.Peek() == '\n') {
      continue;
    } else if (c == '\n') {
      ++*line_no;
      end_field();
      return true;
    } else {
      keep(char(c));
    }
  }
  if (quoted) *bad = true;  // the file ended inside a quoted field
  if (any) end_field();
  return any;
}

bool ReadCsv(std::istream& stream, const std::string& path, const DumpCallbacks& cb, std::string* error) {
  std::vector<std::string> header, row;
  size_t line_no = 1, start = 1, fields = 0;
  bool bad = false, too_long = false;
  std::string over;
  Bytes in(stream);
  if (!CsvRow(in, &header, &line_no, &bad, &fields, &too_long) || bad || too_long || fields > kMaxCsvFields) {
    if (!in.error().empty()) return Done(in, path, 1, over, error);
    *error = path + ": no CSV header row" +
             (too_long || fields > kMaxCsvFields ? " (the first row is over the limit of one record)" : "");
    return false;
  }
  if (!header.empty() && header[0].compare(0, 3, "\xEF\xBB\xBF") == 0) header[0].erase(0, 3);
  bool useful = false;
  for (const auto& h : header) {
    Record probe;
    useful |= SetByName(&probe, Trim(h), "x");
  }
  if (!useful) {
    *error = path + ": the CSV header names no comment field (id, author, email, url, ip, body, ...)";
    return false;
  }
  while ((start = line_no, CsvRow(in, &row, &line_no, &bad, &fields, &too_long))) {
    std::string where = path + ":" + std::to_string(start);
    if (fields == 1 && Trim(row[0]).empty()) continue;
    if (bad) {
      cb.skip(where, "the file ends inside a quoted field");
      break;
    }
    if (too_long) {
      cb.skip(where, TooLong("a row"));
      if (over.empty()) over = where + ": " + TooLong("a record") + " was skipped";
      continue;
    }
    if (fields != header.size()) {
      cb.skip(where, "expected " + std::to_string(header.size()) + " fields, got " + std::to_string(fields));
      continue;
    }
    Record rec;
    for (size_t i = 0; i < header.size(); ++i) SetByName(&rec, Trim(header[i]), row[i]);
    std::string why;
    if (!Finish(&rec, &why)) {
      cb.skip(where, why);
      continue;
    }
    if (rec.id.empty()) rec.id = where;
    if (!cb.record(rec)) return true;
  }
  return Done(in, path, line_no, over, error);
}

// Movable Type's export format: entries end with "--------", sections with
// "-----"; COMMENT: and PING: sections start with "KEY: value" lines.
// Dates are "MM/DD/YYYY hh:mm:ss AM|PM".
std::string MtDate(const std::string& d) {
  int mo, da, y, h, mi, s;
  char ampm[3] = {0};
  if (sscanf(d.c_str(), "%d/%d/%d %d:%d:%d %2s", &mo, &da, &y, &h, &mi, &s, ampm) < 6) return d;
  if ((ampm[0] == 'P' || ampm[0] == 'p') && h < 12) h += 12;
  if ((ampm[0] == 'A' || ampm[0] == 'a') && h == 12) h = 0;
  char buf[32];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, da, h, mi, s);
  return buf;
}

bool ReadMt(std::istream& stream, const std::string& path, const DumpCallbacks& cb, std::string* error) {
  Bytes in(stream);
  std::string over;
  bool too_long = false;
  enum { kHeader, kSection, kFeedbackMeta, kFeedbackText } state = kHeader;
  Record rec;
  std::string entry_title, entry_basename, line;
  size_t line_no = 0, start = 0, entry = 1, n = 0;
  bool in_feedback = false;
  auto begin = [&](bool ping) {
    rec = Record();
    rec.kind = ping ? "trackback" : "comment";
    rec.post_id = !entry_basename.empty() ? entry_basename : entry_title;
    in_feedback = true;
    start = line_no;
    state = kFeedbackMeta;
  };
  auto emit = [&]() {
    in_feedback = false;
    while (!rec.body.empty() && rec.body.back() == '\n') rec.body.pop_back();
    if (rec.kind == "trackback") {
      rec.excerpt = rec.body;
      rec.body.clear();
    }
    rec.id = path + ":" + std::to_string(start);
    std::string why;
    if (!Finish(&rec, &why)) {
      cb.skip(path + ":" + std::to_string(start), why);
      return true;
    }
    ++n;
    return cb.record(rec);
  };
  auto add_text = [&] {
    if (rec.body.size() + line.size() + 1 > kMaxRecordBytes) too_long = true;
    else rec.body += line + "\n";
  };
  while (in.Line(&line, &too_long)) {
    ++line_no;
    if (too_long && in_feedback) {
      std::string where = path + ":" + std::to_string(start);
      cb.skip(where, TooLong("a section"));
      if (over.empty()) over = where + ": " + TooLong("a record") + " was skipped";
      in_feedback = false;
      state = kSection;
    }
    too_long = false;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "--------") {  // end of the entry
      if (in_feedback && !emit()) return true;
      state = kHeader;
      entry_title.clear();
      entry_basename.clear();
      ++entry;
      continue;
    }
    if (line == "-----") {  // end of a section
      if (in_feedback && !emit()) return true;
      state = kSection;
      continue;
    }
    bool starts = line == "COMMENT:" || line == "PING:";
    if (starts || line == "BODY:" || line == "EXTENDED BODY:" || line == "EXCERPT:" || line == "KEYWORDS:") {
      if (in_feedback) {
        cb.skip(path + ":" + std::to_string(start),
                "the section ends at line " + std::to_string(line_no) + " without a ----- separator");
        in_feedback = false;
      }
      if (starts) begin(line == "PING:");
      else state = kSection;
      continue;
    }
    if (state == kHeader) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string key = line.substr(0, colon), val = Trim(line.substr(colon + 1));
        if (key == "TITLE") entry_title = val;
        else if (key == "BASENAME") entry_basename = val;
      }
      continue;
    }
    if (state == kFeedbackMeta) {
      size_t colon = line.find(": ");
      std::string key = colon == std::string::npos ? "" : line.substr(0, colon);
      std::string val = colon == std::string::npos ? "" : line.substr(colon + 2);
      if (key == "AUTHOR") rec.author = val;
      else if (key == "EMAIL") rec.email = val;
      else if (key == "IP") rec.ip = val;
      else if (key == "URL") (rec.kind == "trackback" ? rec.source_url : rec.url) = val;
      else if (key == "DATE") rec.created = MtDate(val);
      else if (key == "TITLE") rec.title = val;
      else if (key == "BLOG NAME") rec.blog_name = val;
      else {
        state = kFeedbackText;
        add_text();
      }
      continue;
    }
    if (state == kFeedbackText) add_text();
  }
  if (in_feedback && in.error().empty()) cb.skip(path + ":" + std::to_string(start), "the file ends inside the section");
  (void)entry;
  return Done(in, path, line_no + 1, over, error);
}

// WordPress WXR, read with expat: <item> is a post, <wp:comment> a comment;
// wp:comment_approved 1 / spam give the labels ham / spam.
struct WxrState {
  const DumpCallbacks* cb;
  std::string path;
  XML_Parser parser;
  std::vector<std::string> stack;
  std::string text, post_id, permalink, approved;
  Record rec;
  bool in_comment = false, stop = false, too_long = false;
  std::string over;  // the first record skipped for its size
};

void XMLCALL WxrStart(void* data, const XML_Char* name, const XML_Char**) {
  auto* s = static_cast<WxrState*>(data);
  s->stack.emplace_back(name);
  s->text.clear();
  if (!strcmp(name, "wp:comment")) {
    s->too_long = false;
    s->rec = Record();
    s->approved.clear();
    s->in_comment = true;
  } else if (!strcmp(name, "item")) {
    s->post_id.clear();
    s->permalink.clear();
  }
}

void XMLCALL WxrText(void* data, const XML_Char* t, int len) {
  auto* s = static_cast<WxrState*>(data);
  if (s->text.size() + size_t(len) <= kMaxRecordBytes) s->text.append(t, size_t(len));
  else s->too_long = true;  // the comment is skipped, and the run fails
}

void XMLCALL WxrEnd(void* data, const XML_Char* name) {
  auto* s = static_cast<WxrState*>(data);
  std::string n(name);
  if (s->in_comment && n != "wp:comment" && n.compare(0, 3, "wp:") == 0) {
    std::string field = n.substr(3);
    if (field == "comment_approved") s->approved = Trim(s->text);
    else if (field == "comment_type") s->rec.kind = Trim(s->text);
    else SetByName(&s->rec, field, field == "comment_content" ? s->text : Trim(s->text));
  } else if (!s->in_comment && n == "wp:post_id") {
    s->post_id = Trim(s->text);
  } else if (!s->in_comment && n == "link" && s->stack.size() >= 2 && s->stack[s->stack.size() - 2] == "item") {
    s->permalink = Trim(s->text);
  } else if (n == "wp:comment") {
    s->in_comment = false;
    Record& r = s->rec;
    r.post_id = s->post_id;
    r.permalink = s->permalink;
    r.label = s->approved == "1" ? "ham" : s->approved == "spam" ? "spam" : "";
    if (r.kind.empty()) r.kind = "comment";
    std::string where = s->path + ":" + std::to_string(XML_GetCurrentLineNumber(s->parser));
    if (!r.created.empty() && r.created.find('T') == std::string::npos && r.created.size() == 19)
      r.created[10] = 'T';
    if (r.created.compare(0, 4, "0000") == 0) r.created.clear();  // WordPress writes zeros for "unknown"
    std::string why;
    if (s->too_long) {
      s->cb->skip(where, TooLong("a field"));
      if (s->over.empty()) s->over = where + ": " + TooLong("a record") + " was skipped";
      s->too_long = false;
    } else if (!Finish(&r, &why)) {
      s->cb->skip(where, why);
    } else {
      if (r.id.empty()) r.id = where;
      if (!s->cb->record(r)) {
        s->stop = true;
        XML_StopParser(s->parser, XML_FALSE);
      }
    }
  }
  s->text.clear();
  if (!s->stack.empty()) s->stack.pop_back();
}

bool ReadWxr(std::istream& in, const std::string& path, const DumpCallbacks& cb, std::string* error) {
  WxrState s;
  s.cb = &cb;
  s.path = path;
  s.parser = XML_ParserCreate(nullptr);
  XML_SetUserData(s.parser, &s);
  XML_SetElementHandler(s.parser, WxrStart, WxrEnd);
  XML_SetCharacterDataHandler(s.parser, WxrText);
  std::vector<char> buf(1 << 16);
  bool ok = true;
  for (;;) {
    in.read(buf.data(), std::streamsize(buf.size()));
    std::streamsize got = in.gcount();
    if (in.bad()) {
      *error = path + ":" + std::to_string(XML_GetCurrentLineNumber(s.parser)) + ": read error: " + strerror(errno) +
               "; the records after it were not read";
      ok = false;
      break;
    }
    bool last = got < std::streamsize(buf.size());
    if (XML_Parse(s.parser, buf.data(), int(got), last) == XML_STATUS_ERROR) {
      if (!s.stop) {
        *error = path + ":" + std::to_string(XML_GetCurrentLineNumber(s.parser)) +
                 ": XML error: " + XML_ErrorString(XML_GetErrorCode(s.parser)) +
                 (last ? " (the file may be cut short)" : "");
        ok = false;
      }
      break;
    }
    if (last) break;
  }
  XML_ParserFree(s.parser);
  if (ok && !s.over.empty()) {
    *error = s.over;
    return false;
  }
  return ok;
}

// "jsonl", "csv", "mt" or "wxr" from a file's first bytes; "" with a reason.
std::string FormatOf(std::string s, const std::string& path, std::string* error) {
  if (s.compare(0, 2, "\xFF\xFE") == 0 || s.compare(0, 2, "\xFE\xFF") == 0 ||
      (s.size() >= 8 && size_t(std::count(s.begin(), s.end(), '\0')) * 4 > s.size())) {
    *error = path + ": looks like UTF-16 (a UTF-16 byte-order mark, or every other byte NUL); dumps are UTF-8: convert it "
                    "first, e.g. iconv -f UTF-16 -t UTF-8";
    return "";
  }
  if (s.compare(0, 3, "\xEF\xBB\xBF") == 0) s.erase(0, 3);
  size_t i = s.find_first_not_of(" \t\r\n");
  if (i == std::string::npos) return "jsonl";  // empty: nothing to read in any format
  if (s[i] == '{') return "jsonl";
  if (s[i] == '<') return "wxr";
  size_t nl = s.find('\n', i);
  std::string first = s.substr(i, nl == std::string::npos ? std::string::npos : nl - i);
  if (first.find(':') != std::string::npos && first.find(',') == std::string::npos) return "mt";
  if (first.find(',') != std::string::npos) return "csv";
  *error = path + ": not a dump spamguard reads (JSON Lines, CSV with a header, Movable Type export, WordPress WXR)";
  return "";
}

// A stream buffer that serves `head`, then what is left of `rest`: standard
// input read after its first bytes were looked at.
class ChainBuf : public std::streambuf {
 public:
  ChainBuf(std::string head, std::streambuf* rest) : head_(std::move(head)), rest_(rest) {
    char* p = head_.data();
    setg(p, p, p + head_.size());
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (rest_ == nullptr) return traits_type::eof();
    std::streamsize n = rest_->sgetn(buf_, sizeof buf_);
    if (n <= 0) {
      rest_ = nullptr;
      return traits_type::eof();
    }
    setg(buf_, buf_, buf_ + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::string head_;
  std::streambuf* rest_;
  char buf_[1 << 16];
};

}  // namespace

bool ParseJsonLine(const std::string& line, const std::string& path, size_t line_no, Record* out, std::string* error) {
  if (!ParseJsonRecord(line, out, error)) return false;
  if (out->id.empty()) out->id = path + ":" + std::to_string(line_no);
  return true;
}

std::string DetectFormat(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot open: " + strerror(errno);
    return "";
  }
  char head[4096];
  in.read(head, sizeof head);
  return FormatOf(std::string(head, size_t(in.gcount())), path, error);
}

bool ReadDump(const std::string& path, const std::string& format, const DumpCallbacks& cb, std::string* error) {
  std::string fmt = format;
  if (path == "-") {
    // Standard input: look at its first bytes, then read on from them.
    std::string head(4096, '\0');
    std::cin.read(head.data(), std::streamsize(head.size()));
    head.resize(size_t(std::cin.gcount()));
    if (fmt.empty() || fmt == "auto") {
      fmt = FormatOf(head, "stdin", error);
      if (fmt.empty()) return false;
    }
    ChainBuf buf(std::move(head), std::cin.rdbuf());
    std::istream in(&buf);
    if (cb.opened) cb.opened(in);
    return ReadDumpStream(in, "stdin", fmt, cb, error);
  }
  struct stat sb;
  if (::stat(path.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode)) {
    *error = path + ": is a directory, not a dump";
    return false;
  }
  if (fmt.empty() || fmt == "auto") {
    fmt = DetectFormat(path, error);
    if (fmt.empty()) return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot open: " + strerror(errno);
    return false;
  }
  if (cb.opened) cb.opened(in);
  return ReadDumpStream(in, path, fmt, cb, error);
}

bool ReadDumpStream(std::istream& in, const std::string& name, const std::string& fmt, const DumpCallbacks& cb,
                    std::string* error) {
  try {
    if (fmt == "jsonl") return ReadJsonl(in, name, cb, error);
    if (fmt == "csv") return ReadCsv(in, name, cb, error);
    if (fmt == "mt") return ReadMt(in, name, cb, error);
    if (fmt == "wxr") return ReadWxr(in, name, cb, error);
  } catch (const std::bad_alloc&) {
    *error = name + ": out of memory while reading; the records after it were not read";
    return false;
  }
  *error = "unknown format '" + fmt + "' (auto, jsonl, csv, mt, wxr)";
  return false;
}

}  // namespace sgcli
