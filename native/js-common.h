// What every binding file shares: the per-environment addon state (the JS error class, the
// handles to close when a worker thread's environment goes away) and uniform argument checks.
// Every check throws the JS MqlabError with code ERR_INVALID_ARG and returns false; callers
// return nullptr at once, so an exception is never thrown twice.
#pragma once
#include <node_api.h>

#include <cstdint>
#include <string>

#include "store-error.h"

namespace mqlab {

struct AddonData {
  napi_ref errorClass = nullptr;
};

AddonData* addonData(napi_env env);
void throwError(napi_env env, const char* code, const std::string& message, double position = -1, int sysErrno = 0,
                double next = -1);
void throwStoreError(napi_env env, const StoreError& e);
inline void throwInvalid(napi_env env, const std::string& what, const std::string& expectation) {
  throwError(env, "ERR_INVALID_ARG", what + " must be " + expectation);
}
bool pendingException(napi_env env);

// Uint8Array (Buffer included) -> pointer and length.
bool argBytes(napi_env env, napi_value v, const char* what, const uint8_t** data, size_t* len);
// A safe integer in [min, max].
bool argInteger(napi_env env, napi_value v, const char* what, double min, double max, double* out);
// A log position: an integer in [0, 2^53].
bool argPosition(napi_env env, napi_value v, const char* what, uint64_t* out);
// Optional timestamp in ms (undefined -> now).
bool argTimestamp(napi_env env, napi_value v, const char* what, int64_t* out);
bool argString(napi_env env, napi_value v, const char* what, std::string* out);
int64_t nowMs();

// Runs f (which returns the call's napi_value); a StoreError it throws becomes the JS MqlabError.
template <typename F>
napi_value guarded(napi_env env, F f) {
  try {
    return f();
  } catch (const StoreError& e) {
    throwStoreError(env, e);
    return nullptr;
  }
}

napi_value makeNumber(napi_env env, double v);
napi_value makeUndefined(napi_env env);

// Arguments of a callback, up to N.
template <size_t N>
struct Args {
  napi_value argv[N];
  size_t argc = N;
  void* data = nullptr;
  Args(napi_env env, napi_callback_info info) { napi_get_cb_info(env, info, &argc, argv, nullptr, &data); }
};

constexpr double kMaxSafe = 9007199254740992.0;  // 2^53

}  // namespace mqlab
