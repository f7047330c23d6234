// The boundary between the C ABI and the C++ core: thread-local error state
// and the guard every entry point runs its body in.
#pragma once

#include <new>
#include <string>

#include "util/status.h"

namespace spamguard::capi {

void SetError(int code, std::string msg);
void ClearError();

inline int Fail(const Status& st) {
  SetError(st.code(), st.message());
  return st.code();
}
inline int Fail(int code, std::string msg) {
  SetError(code, std::move(msg));
  return code;
}

// Runs fn (which returns an int status), clearing the error first.
// Exceptions never escape: bad_alloc -> SG_ENOMEM, anything else ->
// SG_EINTERNAL.
template <typename Fn>
int Guard(Fn&& fn) noexcept {
  try {
    ClearError();
    return fn();
  } catch (const std::bad_alloc&) {
    SetError(SG_ENOMEM, "out of memory");
    return SG_ENOMEM;
  } catch (const std::exception& e) {
    try {
      SetError(SG_EINTERNAL, std::string("internal error: ") + e.what());
    } catch (...) {
    }
    return SG_EINTERNAL;
  } catch (...) {
    SetError(SG_EINTERNAL, "internal error");
    return SG_EINTERNAL;
  }
}

}  // namespace spamguard::capi
