// Flusher: the background thread of one log that makes appended data durable.
//
// Group commit: callers ask for "durable up to position p" (request) and go on; the thread wakes,
// syncs everything appended so far in one go (so every request that arrived meanwhile is covered
// by the same msync), then tells each listener the new durable position. Under the 'async' policy
// it also wakes every interval, or early when the log has grown by flushBytes (kick).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mqlab {

class DurableListener {
 public:
  virtual ~DurableListener() = default;
  // Called on the flusher thread after a sync; `error` is null on success.
  virtual void onDurable(uint64_t durable, const std::string* error) = 0;
};

class Flusher {
 public:
  using SyncFn = std::function<void(uint64_t want)>;  // makes [.., want) durable; throws StoreError
  using PositionFn = std::function<uint64_t()>;

  // periodicMs > 0: also sync everything every periodicMs ('async' policy); the thread starts now.
  // periodicMs == 0: the thread starts with the first request.
  Flusher(SyncFn sync, PositionFn end, PositionFn durable, uint32_t periodicMs);
  ~Flusher();
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

  void request(uint64_t position);
  void kick();
  void stop();
  void addListener(DurableListener* l);
  void removeListener(DurableListener* l);

 private:
  void ensureThread();  // with mu_ held
  void loop();

  const SyncFn sync_;
  const PositionFn end_;
  const PositionFn durable_;
  const uint32_t periodicMs_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t requested_ = 0;
  bool kicked_ = false;
  bool stop_ = false;
  std::thread thread_;
  std::vector<DurableListener*> listeners_;  // guarded by mu_
};

}  // namespace mqlab
