// The JS face of LogCore: `openLog(...)` returns an object of functions bound to one handle.
#pragma once
#include <node_api.h>

namespace mqlab {
napi_value OpenLog(napi_env env, napi_callback_info info);
}
