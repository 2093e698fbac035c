// Errors raised by the storage core. C++ code throws StoreError; the binding layer turns it into
// the JS MqlabError (code + message + details.position / errno / next) handed to the addon at init.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace mqlab {

struct StoreError : std::runtime_error {
  std::string code;
  double position;   // details.position when >= 0
  int sysErrno;      // details.errno when != 0
  double next;       // details.next when >= 0: where reading can resume after a damaged record

  StoreError(std::string c, const std::string& message, double pos = -1, int err = 0, double nextPos = -1)
      : std::runtime_error(message), code(std::move(c)), position(pos), sysErrno(err), next(nextPos) {}
};

// Maps an errno from a system call to a storage error code (ENOSPC -> ERR_NO_SPACE, EROFS/EACCES ->
// ERR_READ_ONLY, anything else ERR_IO) and throws it with "what: strerror".
[[noreturn]] void throwSystemError(const std::string& what, int err);

}  // namespace mqlab
