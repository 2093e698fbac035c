// Registers the addon. `init(MqlabError)` must be called once per JS environment (main thread or
// worker) before anything else: the class is kept in per-environment instance data, so errors
// thrown from C++ are the same MqlabError callers catch elsewhere.
#include <napi.h>

#include "crc32c.h"
#include "js-bench.h"
#include "js-common.h"
#include "js-index-file.h"
#include "js-latency-probe.h"
#include "js-log.h"

namespace mqlab {

static void FreeAddonData(napi_env env, void* data, void*) {
  auto* d = static_cast<AddonData*>(data);
  if (d->errorClass) napi_delete_reference(env, d->errorClass);
  delete d;
}

static Napi::Value InitErrors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    throwInvalid(env, "errorClass", "a constructor function");
    return env.Undefined();
  }
  AddonData* d = addonData(env);
  if (d->errorClass) napi_delete_reference(env, d->errorClass);
  napi_create_reference(env, info[0], 1, &d->errorClass);
  return env.Undefined();
}

static Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint8_t* p;
  size_t len;
  if (!argBytes(env, info.Length() > 0 ? info[0] : env.Undefined(), "data", &p, &len)) return Napi::Value();
  return Napi::Number::New(env, crc32c(0, p, len));
}

static Napi::Value Crc32cPortable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint8_t* p;
  size_t len;
  if (!argBytes(env, info.Length() > 0 ? info[0] : env.Undefined(), "data", &p, &len)) return Napi::Value();
  return Napi::Number::New(env, crc32cPortable(0, p, len));
}

// crc32cFrame(word0, timestamp, payload): the frame checksum as append computes it (for tests).
static Napi::Value Crc32cFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double w, ts;
  const uint8_t* p;
  size_t len;
  if (!argInteger(env, info.Length() > 0 ? info[0] : env.Undefined(), "word0", 0, 4294967295.0, &w) ||
      !argInteger(env, info.Length() > 1 ? info[1] : env.Undefined(), "timestamp", 0, kMaxSafe, &ts) ||
      !argBytes(env, info.Length() > 2 ? info[2] : env.Undefined(), "payload", &p, &len))
    return Napi::Value();
  return Napi::Number::New(env, crc32cFrame(static_cast<uint32_t>(w), static_cast<int64_t>(ts), p, len));
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  napi_set_instance_data(env, new AddonData(), FreeAddonData, nullptr);
  exports.Set("init", Napi::Function::New(env, InitErrors, "init"));
  exports.Set("crc32c", Napi::Function::New(env, Crc32c, "crc32c"));
  exports.Set("crc32cFrame", Napi::Function::New(env, Crc32cFrame, "crc32cFrame"));
  exports.Set("crc32cPortable", Napi::Function::New(env, Crc32cPortable, "crc32cPortable"));
  exports.Set("crc32cHardware", Napi::Boolean::New(env, crc32cHardware()));
  napi_value fn;
  napi_create_function(env, "openLog", NAPI_AUTO_LENGTH, OpenLog, nullptr, &fn);
  exports.Set("openLog", fn);
  napi_create_function(env, "openIndexFile", NAPI_AUTO_LENGTH, OpenIndexFile, nullptr, &fn);
  exports.Set("openIndexFile", fn);
  napi_create_function(env, "benchFrameCopy", NAPI_AUTO_LENGTH, BenchFrameCopy, nullptr, &fn);
  exports.Set("benchFrameCopy", fn);
  const struct { const char* name; napi_callback cb; } probes[] = {
      {"latencyProbe", LatencyProbe},   {"setThreadTimerSlack", SetThreadTimerSlack}, {"threadTimerSlack", ThreadTimerSlack},
      {"setThreadNice", SetThreadNice}, {"threadNice", ThreadNice}};
  for (const auto& p : probes) {
    napi_create_function(env, p.name, NAPI_AUTO_LENGTH, p.cb, nullptr, &fn);
    exports.Set(p.name, fn);
  }
  return exports;
}

}  // namespace mqlab

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return mqlab::Init(env, exports); }

NODE_API_MODULE(mqlab_native, InitModule)
