#include "store-error.h"

#include <cerrno>
#include <cstring>

namespace mqlab {

void throwSystemError(const std::string& what, int err) {
  const char* code = "ERR_IO";
  if (err == ENOSPC || err == EDQUOT) code = "ERR_NO_SPACE";
  else if (err == EROFS || err == EACCES || err == EPERM) code = "ERR_READ_ONLY";
  throw StoreError(code, what + ": " + std::strerror(err), -1, err);
}

}  // namespace mqlab
