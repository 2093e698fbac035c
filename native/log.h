// LogCore: one commit log directory, shared by every thread of the process that opens it.
//
// Threads and locks:
//  - appendMu_ serialises appends and rolls (a record is framed and checksummed before taking it,
//    so the critical section is the copy into the mapping);
//  - listMu_ guards the segment list; readers take it only to find a segment and copy its
//    shared_ptr, so retention or a roll never unmaps memory a reader is copying from;
//  - end_ is published with release after a frame is complete; readers load it with acquire and
//    never look past it;
//  - chunked appenders (append-lease.h) take space a chunk at a time under appendMu_ and fill it
//    without it; end_ then stops at the oldest open chunk;
//  - a preparer thread keeps a spare segment created, preallocated and prefaulted (two when the log
//    rolls fast), so a roll is a header write and a rename; it also seals chunks left idle;
//  - a Flusher thread (flusher.h, started on first need) does group commit.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "append-lease.h"
#include "append-lock.h"
#include "flusher.h"
#include "frame.h"
#include "segment.h"

namespace mqlab {

enum class FlushPolicy { None = 0, Async = 1, Sync = 2 };

struct LogConfig {
  uint64_t segmentBytes = 64ull << 20;
  uint32_t maxRecordBytes = 4u << 20;
  FlushPolicy flush = FlushPolicy::None;
  uint32_t flushIntervalMs = 1000;
  uint64_t flushBytes = 16ull << 20;
};

struct CorruptFrame {
  std::string segment;
  uint64_t position;
  std::string reason;
  uint64_t next;  // the first readable position after the damage
};

struct RecoveryInfo {
  uint64_t end = 0;
  uint64_t truncatedBytes = 0;
  uint64_t paddedBytes = 0;  // unfinished chunks of chunked appenders, padded so the data after them stays
  std::vector<CorruptFrame> corrupt;
};

// Counters JS reads straight from memory (a Float64Array over this block), so `endPosition`
// needs no native call. Written only by the log; doubles hold positions exactly below 2^53.
struct alignas(64) SharedCounters {  // its own cache line: end is written by every append
  double end = 0;
  double start = 0;
  double durable = 0;
};

struct ReadSpan {
  std::shared_ptr<Segment> segment;
  uint64_t offset;  // data offset of the first frame
  uint64_t bytes;   // whole frames
};

struct BatchItem {
  const uint8_t* data;
  uint32_t len;
  uint32_t crc;
};

class LogCore {
 public:
  // Opens the log at `dir` (a real path), or returns the one this process already has open there.
  static std::shared_ptr<LogCore> acquire(const std::string& dir, const LogConfig& config);
  ~LogCore();

  uint64_t append(const uint8_t* payload, uint32_t len, int64_t timestamp);
  uint64_t appendBatch(const BatchItem* items, size_t count, int64_t timestamp);
  // `count` records laid end to end from `bytes`, record i lengths[i] bytes (each already checked
  // against maxRecordBytes by the caller).
  uint64_t appendPacked(const uint8_t* bytes, const uint32_t* lengths, size_t count, int64_t timestamp);

  // Chunked appends (append-lease.h). A lease belongs to one thread; it is closed (its chunk
  // sealed) before that thread lets go of the log.
  AppendLease* openLease();
  void closeLease(AppendLease* lease);
  uint64_t appendLeased(AppendLease& lease, const uint8_t* payload, uint32_t len, int64_t timestamp);
  // Seals the lease's chunk, so what the owner appends next (in order, or in a new chunk) comes after it.
  void sealOwnChunk(AppendLease& lease);

  // Checks that a record starts at `position` and returns its segment (kept alive by the caller).
  std::shared_ptr<Segment> locate(uint64_t position, uint64_t* offset, uint32_t* len, int64_t* ts, uint64_t* next);
  // Whole, checksum-verified frames from `position`; returns the position after the last one.
  uint64_t collect(uint64_t position, uint64_t maxBytes, uint64_t maxRecords, std::vector<ReadSpan>& spans);

  // Blocks until everything appended before the call is durable.
  void flushSync();
  // Asks the flusher thread to make `position` durable; listeners hear when it is.
  void requestDurable(uint64_t position);
  void addListener(DurableListener* l);
  void removeListener(DurableListener* l);

  uint64_t applyRetention(int64_t now, int64_t maxAgeMs, int64_t maxBytes);

  uint64_t end() const { return end_.load(std::memory_order_acquire); }
  uint64_t start();
  uint64_t durable() const { return durable_.load(std::memory_order_acquire); }
  const RecoveryInfo& recovery() const { return recovery_; }
  const LogConfig& config() const { return config_; }
  const std::string& dir() const { return dir_; }
  std::shared_ptr<SharedCounters> counters() const { return counters_; }
  size_t segmentCount();
  // Seals the active segment if it holds any record, so the next append starts a new one (what a
  // model's roll by age needs: retention only ever deletes sealed segments). Returns whether it did.
  bool rollNow();
  // Past every frame and chunk handed out: end() unless a chunk is open. Takes the append lock.
  uint64_t tail();
  // Position of the active segment's first byte (== end() right after a roll).
  uint64_t activeBase();

 private:
  LogCore(std::string dir, const LogConfig& config);
  void open();
  void recoverTail(Segment& seg, uint64_t fromOffset, int64_t maxTs);
  void scanSealed(Segment& seg, uint64_t dataBytes);
  void reportDamage(const Segment& seg, uint64_t off, uint64_t nextOff, const char* reason);
  [[noreturn]] void throwUnreadable(uint64_t pos, frame::Check c, uint64_t guessNext);
  void roll();
  // Appends `count` frames contiguously under the append lock, rolling as needed:
  // lengthOf(i) is record i's payload length, writeFrame(dst, i, len) writes its frame at dst.
  template <typename LengthOf, typename WriteFrame>
  uint64_t appendFrames(size_t count, int64_t ts, LengthOf lengthOf, WriteFrame writeFrame);
  std::unique_ptr<Segment> takeSpare();
  std::string spareName();  // under spareMu_
  void wantSpare();
  void preparerLoop();
  void syncTo(uint64_t want);
  void writeCheckpoint(uint64_t segmentBase, uint64_t offset, int64_t maxTs);
  bool readCheckpoint(uint64_t* segmentBase, uint64_t* offset, int64_t* maxTs);
  void publish(uint64_t newEnd);
  void setEnd(uint64_t e);
  // Under appendMu_ unless noted.
  bool sealLease(AppendLease& l, bool waitForOwner);
  void advanceEnd();
  uint64_t refillLease(AppendLease& l, const uint8_t* payload, uint32_t len, int64_t ts);
  // Seals every open chunk that starts before `position` (but `keep`); true if it sealed any.
  bool sealChunksBefore(uint64_t position, const AppendLease* keep = nullptr);
  AppendLease* chunkHolding(uint64_t position);  // the open chunk `position` falls in, if any
  bool publishChunk(AppendLease& l);             // its published start up to its whole frames' end
  // Makes everything before `position` readable (takes appendMu_).
  void settle(uint64_t position);
  // For a read at or past end_ (takes appendMu_): seals the chunks before the one holding
  // `position`; if that one is open, returns the active segment and where its whole frames end.
  std::shared_ptr<Segment> openChunkFor(uint64_t position, uint64_t* written);
  void sealIdleLeases();                     // the preparer's tick; takes appendMu_ if free

  std::string spath(const std::string& name) const { return dir_ + "/" + name; }

  const std::string dir_;
  const LogConfig config_;
  int lockFd_ = -1;
  RecoveryInfo recovery_;
  std::map<uint64_t, uint64_t> damaged_;  // position -> next readable position; set by open()
  std::shared_ptr<SharedCounters> counters_;

  // The lock has a cache line to itself: a thread spinning on it must not pull away the line
  // the holder is writing. What every append touches is together on the next line.
  alignas(64) AppendLock appendMu_;
  alignas(64) Segment* active_ = nullptr;  // owned by segments_
  uint64_t writeOffset_ = 0;   // data offset of the next frame in active_
  std::atomic<uint64_t> end_{0};
  std::atomic<int64_t> activeMaxTs_{INT64_MIN};  // newest timestamp in active_ (kept here, not in the segment)
  uint64_t nextKick_ = 0;      // async policy: end position that wakes the flusher
  void noteTimestamp(int64_t ts) {
    if (ts > activeMaxTs_.load(std::memory_order_relaxed)) activeMaxTs_.store(ts, std::memory_order_relaxed);
  }

  std::vector<std::unique_ptr<AppendLease>> leases_;  // under appendMu_
  std::atomic<uint32_t> openChunks_{0};  // leases with an open chunk; written under appendMu_
  uint64_t sealTicks_ = 0;               // the preparer's idle-seal ticks so far
  bool chunkedMarked_ = false;           // the log's "chunked" mark file exists
  const std::chrono::milliseconds sealEvery_;

  alignas(64) std::mutex listMu_;
  std::vector<std::shared_ptr<Segment>> segments_;
  bool dirDirty_ = false;

  std::mutex spareMu_;
  std::condition_variable spareCv_;
  std::deque<std::unique_ptr<Segment>> spares_;  // prepared, oldest first
  size_t sparesWanted_ = 1;
  uint64_t spareSeq_ = 0;
  std::chrono::steady_clock::time_point lastRoll_ = std::chrono::steady_clock::now();
  bool prepareFailed_ = false;  // until the next roll asks again
  std::shared_ptr<Segment> sealedBefore_;  // sealed at the last roll; released at the next one
  std::shared_ptr<Segment> toRelease_;     // handed to the preparer to release its pages
  bool preparing_ = false;
  bool stopping_ = false;
  std::thread preparer_;

  std::mutex syncMu_;  // one sync at a time; later callers find their data already durable
  std::atomic<uint64_t> durable_{0};

  std::unique_ptr<Flusher> flusher_;
};

}  // namespace mqlab
