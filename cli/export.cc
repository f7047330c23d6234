#include "export.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "output.h"

namespace sgcli {
namespace {

struct Sink {
  int fd = -1;
  int err = 0;  // errno of the first failed write
};

int WriteAll(void* ctx, const char* data, size_t len) {
  auto* s = static_cast<Sink*>(ctx);
  while (len > 0) {
    ssize_t n = ::write(s->fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      s->err = n < 0 ? errno : EIO;
      return 1;
    }
    data += n;
    len -= size_t(n);
  }
  return 0;
}

int FormatOf(const std::string& f) {
  if (f == "nft") return SG_EXPORT_NFT;
  if (f == "ipset") return SG_EXPORT_IPSET;
  if (f == "iptables") return SG_EXPORT_IPTABLES;
  if (f == "htaccess") return SG_EXPORT_HTACCESS;
  return SG_EXPORT_PLAIN;
}

// An .htaccess holds more than the block list (a blog's rewrite rules):
// the lines of the file being replaced that are not between the markers
// follow the new block. Returns an error message, or "".
std::string KeepTheRest(const std::string& path, int fd) {
  FILE* in = fopen(path.c_str(), "r");
  if (in == nullptr) return errno == ENOENT ? "" : std::string("cannot read it: ") + strerror(errno);
  std::string line, rest;
  bool inside = false;
  char buf[4096];
  while (fgets(buf, sizeof buf, in) != nullptr) {
    line += buf;
    if (line.back() != '\n' && !feof(in)) continue;  // (a line longer than the buffer)
    std::string bare = line.substr(0, line.find_last_not_of("\r\n") + 1);
    if (bare == "# BEGIN spamguard") inside = true;
    else if (bare == "# END spamguard") inside = false;
    else if (!inside) rest += line;
    line.clear();
    if (rest.size() > (16u << 20)) break;
  }
  bool bad = ferror(in) != 0;
  fclose(in);
  if (bad) return "cannot read it";
  if (rest.size() > (16u << 20)) return "more than 16 MB besides the block list; not replaced";
  Sink s{fd, 0};
  if (WriteAll(&s, rest.data(), rest.size()) != 0) return std::string("cannot write: ") + strerror(s.err);
  return "";
}

}  // namespace

int ExportCommand(const sg_engine* engine, const ExportArgs& args) {
  Sink sink;
  std::string tmp;
  if (args.output.empty() || args.output == "-") {
    sink.fd = STDOUT_FILENO;
  } else {
    // Written beside the target and renamed over it: a firewall job that
    // loads the file never sees half of it. Only a regular file is replaced.
    struct stat st;
    if (lstat(args.output.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      fprintf(stderr, "spamguard: %s: not a regular file; not replaced\n", Shown(args.output.c_str()).c_str());
      return 1;
    }
    tmp = args.output + ".XXXXXX";
    sink.fd = mkstemp(tmp.data());
    if (sink.fd < 0) {
      fprintf(stderr, "spamguard: %s: cannot write: %s\n", Shown(args.output.c_str()).c_str(), strerror(errno));
      return 1;
    }
    struct stat old;
    fchmod(sink.fd, stat(args.output.c_str(), &old) == 0 ? (old.st_mode & 07777) : 0644);
  }
  int64_t ranges = 0;
  int rc = sg_engine_list_export(&ranges, engine, FormatOf(args.format), args.name.c_str(), args.family,
                                 args.ports == "all" ? "" : args.ports.c_str(), args.at,
                                 WriteAll, &sink);
  std::string error = rc < 0 ? sg_error_message() : "";
  if (rc >= 0 && !tmp.empty() && fsync(sink.fd) != 0) error = std::string("cannot write: ") + strerror(errno);
  if (error.empty() && !tmp.empty() && args.format == "htaccess") error = KeepTheRest(args.output, sink.fd);
  if (!tmp.empty()) {
    if (::close(sink.fd) != 0 && error.empty()) error = std::string("cannot write: ") + strerror(errno);
    if (error.empty() && rename(tmp.c_str(), args.output.c_str()) != 0)
      error = std::string("cannot replace it: ") + strerror(errno);
    if (!error.empty()) unlink(tmp.c_str());
  }
  if (!error.empty()) {
    if (sink.err != 0) error = std::string("cannot write: ") + strerror(sink.err);
    fprintf(stderr, "spamguard: %s%s\n", tmp.empty() ? "" : (Shown(args.output.c_str()) + ": ").c_str(),
            Shown(error.c_str()).c_str());
    return 1;
  }
  fprintf(stderr, "exported %lld %s as %s%s%s\n", static_cast<long long>(ranges),
          ranges == 1 ? "range" : "ranges", args.format.c_str(), tmp.empty() ? "" : " to ",
          tmp.empty() ? "" : Shown(args.output.c_str()).c_str());
  return 0;
}

std::string FormFieldsHtml(const std::string& token) {
  return "<input type=\"hidden\" name=\"spamguard_token\" value=\"" + token +
         "\">\n"
         "<p class=\"spamguard-hp\" aria-hidden=\"true\" "
         "style=\"position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden\">"
         "<label>Leave this field empty <input type=\"text\" name=\"spamguard_website\" value=\"\" tabindex=\"-1\" "
         "autocomplete=\"off\"></label></p>\n";
}

}  // namespace sgcli
