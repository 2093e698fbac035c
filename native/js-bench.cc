#include "js-bench.h"

#include <atomic>
#include <chrono>
#include <vector>

#include "file-util.h"
#include "frame.h"
#include "js-common.h"
#include "segment.h"

namespace mqlab {

napi_value BenchFrameCopy(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  for (size_t i = a.argc; i < 3; i++) napi_get_undefined(env, &a.argv[i]);
  std::string dir;
  double payloadBytes, count;
  if (!argString(env, a.argv[0], "dir", &dir) ||
      !argInteger(env, a.argv[1], "payloadBytes", 0, 1 << 20, &payloadBytes) ||
      !argInteger(env, a.argv[2], "count", 1, 1e12, &count))
    return nullptr;
  const std::string path = dir + "/bench-frame-copy.tmp";
  constexpr uint64_t kMapBytes = 64ull << 20;
  try {
    auto seg = Segment::createSpare(path, kMapBytes);
    removeFile(path);
    std::vector<uint8_t> payload(static_cast<size_t>(payloadBytes), 0x5A);
    const uint32_t len = static_cast<uint32_t>(payloadBytes);
    const uint64_t bytes = frame::frameBytes(len);
    const uint64_t capacity = seg->dataCapacity() - frame::kEndBytes;
    uint8_t* data = seg->data();
    std::atomic<uint64_t> end{0};
    uint64_t off = 0;
    const uint64_t n = static_cast<uint64_t>(count);
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < n; i++) {
      if (off + bytes > capacity) off = 0;
      payload[0] = static_cast<uint8_t>(i);  // different content each time, as real records
      const int64_t ts = static_cast<int64_t>(i);
      frame::write(data + off, payload.data(), len, ts, frame::checksum(len, ts, payload.data()));
      off += bytes;
      end.store(off, std::memory_order_release);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return makeNumber(env, secs);
  } catch (const StoreError& e) {
    throwStoreError(env, e);
    return nullptr;
  }
}

}  // namespace mqlab
