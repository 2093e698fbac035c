// The JS face of IndexFile: `openIndexFile(path, entryBytes, growBytes)` returns bound functions.
#pragma once
#include <node_api.h>

namespace mqlab {
napi_value OpenIndexFile(napi_env env, napi_callback_info info);
}
