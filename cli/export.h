// `spamguard list export` and the comment form's hidden fields.
#pragma once

#include <cstdint>
#include <string>

#include "spamguard/spamguard.h"

namespace sgcli {

struct ExportArgs {
  std::string format = "plain";
  std::string name = "spamguard";
  int family = 0;      // 0: both
  std::string ports = "80,443";  // nft: "all" for all traffic
  std::string output;  // empty: standard output
  int64_t at = 0;      // 0: now
};

// Writes the block list; returns the command's exit status.
int ExportCommand(const sg_engine* engine, const ExportArgs& args);

// The hidden fields of a comment form: the token and the honeypot (an
// input people never see, named so that form-filling programs fill it).
std::string FormFieldsHtml(const std::string& token);

}  // namespace sgcli
