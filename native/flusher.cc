#include "flusher.h"

#include <algorithm>
#include <chrono>

#include "store-error.h"

namespace mqlab {

Flusher::Flusher(SyncFn sync, PositionFn end, PositionFn durable, uint32_t periodicMs)
    : sync_(std::move(sync)), end_(std::move(end)), durable_(std::move(durable)), periodicMs_(periodicMs) {
  if (periodicMs_ > 0) {
    std::lock_guard<std::mutex> g(mu_);
    ensureThread();
  }
}

Flusher::~Flusher() { stop(); }

void Flusher::stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Flusher::ensureThread() {
  if (!thread_.joinable() && !stop_) thread_ = std::thread([this] { loop(); });
}

void Flusher::request(uint64_t position) {
  {
    std::lock_guard<std::mutex> g(mu_);
    ensureThread();
    if (position > requested_) requested_ = position;
  }
  cv_.notify_one();
}

void Flusher::kick() {
  {
    std::lock_guard<std::mutex> g(mu_);
    kicked_ = true;
  }
  cv_.notify_one();
}

void Flusher::addListener(DurableListener* l) {
  std::lock_guard<std::mutex> g(mu_);
  listeners_.push_back(l);
}

void Flusher::removeListener(DurableListener* l) {
  std::lock_guard<std::mutex> g(mu_);
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), l), listeners_.end());
}

void Flusher::loop() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    auto ready = [this] { return stop_ || kicked_ || requested_ > durable_(); };
    if (periodicMs_ > 0) cv_.wait_for(lk, std::chrono::milliseconds(periodicMs_), ready);
    else cv_.wait(lk, ready);
    if (stop_) break;
    // Sync everything appended so far: later requests that are already covered cost nothing.
    const uint64_t want = std::max(requested_, end_());
    kicked_ = false;
    lk.unlock();
    std::string error;
    bool failed = false;
    try {
      sync_(want);
    } catch (const StoreError& e) {
      error = e.what();
      failed = true;
    }
    lk.lock();
    const uint64_t d = durable_();
    if (failed) requested_ = d;  // the waiting callers are told of the failure; do not spin on it
    for (auto* l : listeners_) l->onDurable(d, failed ? &error : nullptr);
  }
}

}  // namespace mqlab
