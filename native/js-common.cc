#include "js-common.h"

#include <time.h>

#include <algorithm>
#include <cmath>

namespace mqlab {

AddonData* addonData(napi_env env) {
  void* d = nullptr;
  napi_get_instance_data(env, &d);
  return static_cast<AddonData*>(d);
}

bool pendingException(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  return pending;
}

void throwError(napi_env env, const char* code, const std::string& message, double position, int sysErrno, double next) {
  if (pendingException(env)) return;
  AddonData* d = addonData(env);
  napi_value ctor = nullptr;
  if (d && d->errorClass) napi_get_reference_value(env, d->errorClass, &ctor);
  napi_value codeV, msgV;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &codeV);
  napi_create_string_utf8(env, message.data(), message.size(), &msgV);
  if (!ctor) {
    napi_throw_error(env, code, message.c_str());
    return;
  }
  napi_value details;
  napi_get_undefined(env, &details);
  if (position >= 0 || sysErrno != 0 || next >= 0) {
    napi_create_object(env, &details);
    if (position >= 0) napi_set_named_property(env, details, "position", makeNumber(env, position));
    if (sysErrno != 0) napi_set_named_property(env, details, "errno", makeNumber(env, sysErrno));
    if (next >= 0) napi_set_named_property(env, details, "next", makeNumber(env, next));
  }
  napi_value argv[3] = {codeV, msgV, details};
  napi_value err;
  if (napi_new_instance(env, ctor, 3, argv, &err) == napi_ok) napi_throw(env, err);
}

void throwStoreError(napi_env env, const StoreError& e) {
  throwError(env, e.code.c_str(), e.what(), e.position, e.sysErrno, e.next);
}

static const char* typeName(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return "unknown";
  switch (t) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_symbol: return "symbol";
    case napi_object: return "object";
    case napi_function: return "function";
    case napi_external: return "external";
    case napi_bigint: return "bigint";
  }
  return "unknown";
}

bool argBytes(napi_env env, napi_value v, const char* what, const uint8_t** data, size_t* len) {
  napi_typedarray_type type;
  void* p = nullptr;
  if (napi_get_typedarray_info(env, v, &type, len, &p, nullptr, nullptr) != napi_ok || type != napi_uint8_array) {
    throwInvalid(env, what, std::string("a Uint8Array or Buffer (got ") + typeName(env, v) + ")");
    return false;
  }
  *data = static_cast<const uint8_t*>(p);
  return true;
}

bool argInteger(napi_env env, napi_value v, const char* what, double min, double max, double* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !std::isfinite(d) || std::floor(d) != d || d < min || d > max) {
    char buf[128];
    snprintf(buf, sizeof buf, "an integer in [%.0f, %.0f]", min, max);
    throwInvalid(env, what, buf);
    return false;
  }
  *out = d;
  return true;
}

bool argPosition(napi_env env, napi_value v, const char* what, uint64_t* out) {
  double d;
  if (!argInteger(env, v, what, 0, kMaxSafe, &d)) return false;
  *out = static_cast<uint64_t>(d);
  return true;
}

static int64_t realtimeNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t WallClock::resync() {
  const int64_t ns = realtimeNs();
#if defined(__x86_64__)
  const uint64_t t2 = __builtin_ia32_rdtsc();
  if (baseTsc_ == 0 || t2 < baseTsc_ || ns < baseNs_) {
    baseTsc_ = t2;
    baseNs_ = ns;
    windowTicks_ = 0;
  } else if (ns - baseNs_ >= 1000000) {
    const double rate = static_cast<double>(ns - baseNs_) / static_cast<double>(t2 - baseTsc_);
    if (rate > 0.01 && rate < 100) {  // a 10 MHz .. 100 GHz counter; otherwise keep asking the kernel
      nsPerTick_ = rate;
      // Extrapolate for up to 4x the interval the rate was measured over, at most 20 ms: a rate
      // from the first, 1 ms interval of a new handle is off by the jitter of the two reads.
      windowTicks_ = static_cast<uint64_t>(std::min(20e6, 4.0 * static_cast<double>(ns - baseNs_)) / rate);
    } else {
      windowTicks_ = 0;
    }
    baseTsc_ = t2;
    baseNs_ = ns;
  }
#endif
  return ns / 1000000;
}

bool argTimestamp(napi_env env, napi_value v, const char* what, WallClock& clock, int64_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) == napi_ok) {
    if (!std::isfinite(d) || d < 0 || d > kMaxSafe) {
      throwInvalid(env, what, "a finite number of ms since the epoch, >= 0");
      return false;
    }
    *out = static_cast<int64_t>(d);
    return true;
  }
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined) {
    *out = clock.nowMs();
    return true;
  }
  throwInvalid(env, what, std::string("a number or undefined (got ") + typeName(env, v) + ")");
  return false;
}

bool argString(napi_env env, napi_value v, const char* what, std::string* out) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) {
    throwInvalid(env, what, std::string("a string (got ") + typeName(env, v) + ")");
    return false;
  }
  out->resize(len);
  napi_get_value_string_utf8(env, v, &(*out)[0], len + 1, &len);
  if (out->find('\0') != std::string::npos) {
    throwInvalid(env, what, "a string without NUL characters");
    return false;
  }
  return true;
}

napi_value makeNumber(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

napi_value makeUndefined(napi_env env) {
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}

}  // namespace mqlab
