// The life of a native object handed to JS as a plain object of bound functions (a log handle,
// an index-file handle). JS closes it explicitly; if its JS environment (a worker thread) goes
// away first, the environment's cleanup hook closes it; it is freed once the last of its
// functions is garbage collected, so a call after close always finds it and reports ERR_CLOSED.
//
// Derived provides close() (idempotent, calling unbindFromEnv()), isOpen(), a kName for messages,
// and may provide releaseRefs(napi_env) to drop napi references it holds before it is freed.
#pragma once
#include <node_api.h>

#include <string>

#include "js-common.h"

namespace mqlab {

template <typename Derived>
class JsHandle {
 public:
  napi_env env = nullptr;

  // The handle a bound function was called on, with its first N arguments (missing ones read
  // as undefined); nullptr, with ERR_CLOSED thrown, once it is closed.
  template <size_t N>
  static Derived* fromCall(napi_env env, napi_callback_info info, napi_value (&argv)[N]) {
    size_t argc = N;
    void* data = nullptr;
    napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
    for (size_t i = argc; i < N; i++) napi_get_undefined(env, &argv[i]);
    auto* h = static_cast<Derived*>(data);
    if (!h->isOpen()) {
      throwError(env, "ERR_CLOSED", std::string(Derived::kName) + " is closed");
      return nullptr;
    }
    return h;
  }

  // Registers the environment cleanup hook; once the handle is fully opened.
  void bindToEnv(napi_env e) {
    env = e;
    napi_add_env_cleanup_hook(env, RunCleanup, self());
    hooked_ = true;
  }

  // Part of every close(): the environment no longer has to close it.
  void unbindFromEnv() {
    if (!hooked_) return;
    napi_remove_env_cleanup_hook(env, RunCleanup, self());
    hooked_ = false;
  }

  // obj[name] = a JS function calling `cb` with this handle as its data.
  void expose(napi_value obj, const char* name, napi_callback cb) {
    napi_value fn;
    napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, self(), &fn);
    jsRefs_++;
    napi_add_finalizer(env, fn, self(), Finalize, nullptr, nullptr);
    napi_set_named_property(env, obj, name, fn);
  }

  void releaseRefs(napi_env) {}

 private:
  Derived* self() { return static_cast<Derived*>(this); }

  static void RunCleanup(void* arg) {
    auto* h = static_cast<Derived*>(arg);
    static_cast<JsHandle*>(h)->hooked_ = false;
    h->close();
  }

  static void Finalize(napi_env env, void* data, void*) {
    auto* h = static_cast<Derived*>(data);
    if (--static_cast<JsHandle*>(h)->jsRefs_ > 0) return;
    h->close();
    h->releaseRefs(env);
    delete h;
  }

  bool hooked_ = false;
  int jsRefs_ = 0;
};

}  // namespace mqlab
