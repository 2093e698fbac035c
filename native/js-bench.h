// Native benchmark hooks: loops that run without any JS, to measure the machine's ceiling.
#pragma once
#include <node_api.h>

namespace mqlab {
// benchFrameCopy(dir, payloadBytes, count) -> seconds taken to frame (CRC32C + header) and copy
// `count` records into a preallocated, prefaulted mapping, as LogCore::append does.
napi_value BenchFrameCopy(napi_env env, napi_callback_info info);
}
