// Loading labeled JSON Lines dumps into sg_comment handles for tests, using
// the command's own dump reader (public C API only).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dump.h"
#include "record.h"
#include "spamguard/spamguard.h"

namespace sgtest {

struct CommentDeleter {
  void operator()(sg_comment* c) const { sg_comment_free(c); }
};
using CommentPtr = std::unique_ptr<sg_comment, CommentDeleter>;

struct Labeled {
  std::string id, label;
  CommentPtr comment;
};

// An engine on a rule file with no database and no rate limits: content
// rules only.
inline int OpenContentOnly(sg_engine** out, const char* rules) {
  sg_config* cfg = nullptr;
  int rc = sg_config_new(&cfg);
  if (rc == SG_OK) rc = sg_config_set_str(cfg, SG_CFG_DATABASE, "none");
  if (rc == SG_OK) rc = sg_config_set_int(cfg, SG_CFG_RATELIMIT_MODE, SG_RATELIMIT_OFF);
  if (rc == SG_OK) rc = sg_engine_open(out, rules, cfg);
  sg_config_free(cfg);
  return rc;
}

inline std::vector<Labeled> LoadJsonl(const std::string& path) {
  std::vector<Labeled> out;
  sgcli::DumpCallbacks cb;
  cb.skip = [&](const std::string& where, const std::string& why) {
    throw std::runtime_error(where + ": " + why);
  };
  cb.record = [&](const sgcli::Record& rec) {
    sg_comment* c = nullptr;
    if (sg_comment_new(&c) < 0) throw std::runtime_error(sg_error_message());
    CommentPtr owned(c);
    if (sgcli::ToComment(rec, c) < 0) throw std::runtime_error(sg_error_message());
    out.push_back({rec.id, rec.label, std::move(owned)});
    return true;
  };
  std::string error;
  if (!sgcli::ReadDump(path, "jsonl", cb, &error)) throw std::runtime_error(error);
  return out;
}

}  // namespace sgtest
