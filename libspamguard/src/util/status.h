// Status: the result of an operation that can fail in an expected way.
// Errors are values (LevelDB style); exceptions are reserved for
// out-of-memory and bugs, and never cross the C ABI.
#pragma once

#include <string>
#include <utility>

#include "spamguard/spamguard.h"

namespace spamguard {

class Status {
 public:
  Status() = default;  // OK

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(SG_EINVAL, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(SG_EIO, std::move(msg)); }
  static Status RuleError(std::string msg) { return Status(SG_ERULE, std::move(msg)); }
  static Status ParseError(std::string msg) { return Status(SG_EPARSE, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(SG_ENOTFOUND, std::move(msg)); }
  static Status Limit(std::string msg) { return Status(SG_ELIMIT, std::move(msg)); }
  static Status Busy(std::string msg) { return Status(SG_EBUSY, std::move(msg)); }

  bool ok() const { return code_ == SG_OK; }
  int code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(int code, std::string msg) : code_(code), message_(std::move(msg)) {}
  int code_ = SG_OK;
  std::string message_;
};

}  // namespace spamguard
