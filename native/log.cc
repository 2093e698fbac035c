#include "log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>

#include "crc32c.h"
#include "file-util.h"
#include "frame.h"
#include "store-error.h"

namespace mqlab {

namespace {

// Logs open in this process, by real path: threads that open the same directory share one LogCore.
std::mutex gRegistryMu;
std::condition_variable gRegistryCv;
std::map<std::string, std::weak_ptr<LogCore>>& registry() {
  static auto* reg = new std::map<std::string, std::weak_ptr<LogCore>>();
  return *reg;
}

// The preparer makes spares as "next.spare.<n>"; a roll that has to make one itself, and the first
// segment of a new log, use "next.spare". Any file starting with it is a leftover of a process
// that died and is removed on open.
const char* kSpareName = "next.spare";
// A log that filled its last segment this fast keeps two spares ready, not one: a burst then rolls
// twice without waiting for the preparer (what RocketMQ's allocator does for its CommitLog).
constexpr auto kFastRoll = std::chrono::seconds(1);
// While chunks are open the preparer looks at them this often: a chunk whose owner appended nothing
// since the last look, or that has been open kMaxChunkTicks looks, is sealed, so the records
// behind it become readable (at most ~1 ms late behind an idle appender, ~10 ms behind a slow one).
// MQLAB_CHUNK_TICK_MS overrides it (tests that check where chunks fall set it long).
constexpr auto kSealTick = std::chrono::milliseconds(1);
std::chrono::milliseconds sealTickFromEnv() {
  const char* v = std::getenv("MQLAB_CHUNK_TICK_MS");
  const long ms = v ? std::strtol(v, nullptr, 10) : 0;
  return ms > 0 && ms <= 3600000 ? std::chrono::milliseconds(ms) : kSealTick;
}
constexpr uint64_t kMaxChunkTicks = 10;
// Larger frames go the ordered way: a chunk holds at least two of the frames it takes, so a frame
// that does not fit the rest of a chunk leaves less than half of it unused.
constexpr uint64_t kLeaseMaxFrame = frame::kChunkBytes / 2;
const char* kLockName = "lock";
// Present once a chunked appender has used the log: only then may recovery look past unwritten
// space for later chunks (an ordered log's data simply ends there).
const char* kChunkedMarkName = "chunked";
const char* kCheckpointName = "checkpoint";
constexpr uint64_t kCheckpointMagic = 0x544E504B43514D51ULL;  // "QMQCKPNT"

struct Checkpoint {
  uint64_t magic;
  uint64_t segmentBase;
  uint64_t offset;
  int64_t maxTimestamp;
  uint32_t crc;
  uint32_t pad;
};

bool parseSegmentName(const char* name, uint64_t* base) {
  size_t n = std::strlen(name);
  if (n != 24 || std::strcmp(name + 20, ".log") != 0) return false;
  uint64_t v = 0;
  for (int i = 0; i < 20; i++) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *base = v;
  return true;
}

// Offset just past the last non-zero byte in [from, to), or `from` if all zero.
uint64_t endOfNonZero(const uint8_t* d, uint64_t from, uint64_t to) {
  uint64_t last = from;
  uint64_t off = from;
  while (off < to && (off & 7)) {
    if (d[off]) last = off + 1;
    off++;
  }
  while (off + 64 <= to) {
    uint64_t acc = 0;
    for (int i = 0; i < 8; i++) acc |= frame::load64(d + off + i * 8);
    if (acc) {
      for (int i = 0; i < 64; i++)
        if (d[off + i]) last = off + i + 1;
    }
    off += 64;
  }
  for (; off < to; off++)
    if (d[off]) last = off + 1;
  return last;
}

}  // namespace

std::shared_ptr<LogCore> LogCore::acquire(const std::string& dir, const LogConfig& config) {
  std::unique_lock<std::mutex> lk(gRegistryMu);
  auto& reg = registry();
  for (;;) {
    auto it = reg.find(dir);
    if (it == reg.end()) break;
    if (auto existing = it->second.lock()) return existing;
    // The last user is closing it right now; wait until its files and lock are released.
    gRegistryCv.wait(lk);
  }
  std::unique_ptr<LogCore> core(new LogCore(dir, config));
  core->open();
  std::shared_ptr<LogCore> shared(core.release(), [](LogCore* c) {
    std::string key = c->dir();
    delete c;
    std::lock_guard<std::mutex> g(gRegistryMu);
    auto& r = registry();
    auto it = r.find(key);
    if (it != r.end() && it->second.expired()) r.erase(it);
    gRegistryCv.notify_all();
  });
  reg[dir] = shared;
  return shared;
}

LogCore::LogCore(std::string dir, const LogConfig& config)
    : dir_(std::move(dir)), config_(config), counters_(std::make_shared<SharedCounters>()), sealEvery_(sealTickFromEnv()) {}

LogCore::~LogCore() {
  {
    std::lock_guard<std::mutex> g(spareMu_);
    stopping_ = true;
  }
  spareCv_.notify_all();
  if (preparer_.joinable()) preparer_.join();
  if (flusher_) flusher_->stop();
  if (config_.flush != FlushPolicy::None && active_) {
    try {
      syncTo(end());
    } catch (const StoreError&) {
      // Close cannot report; the data stays in the page cache and the next open recovers it.
    }
  }
  for (auto& s : spares_) {
    const std::string path = s->path();
    s.reset();
    removeFile(path);
  }
  spares_.clear();
  toRelease_.reset();
  sealedBefore_.reset();
  segments_.clear();
  closeFile(lockFd_);
}

void LogCore::open() {
  lockFd_ = openFile(spath(kLockName), O_RDWR | O_CREAT);
  if (flock(lockFd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      throw StoreError("ERR_LOCKED", "log " + dir_ + " is open for writing in another process");
    throwSystemError("cannot lock " + spath(kLockName), errno);
  }
  std::vector<uint64_t> bases;
  std::vector<std::string> leftovers;
  DIR* d = opendir(dir_.c_str());
  if (!d) throwSystemError("cannot list " + dir_, errno);
  while (struct dirent* e = readdir(d)) {
    uint64_t base;
    if (parseSegmentName(e->d_name, &base)) bases.push_back(base);
    else if (std::strncmp(e->d_name, kSpareName, std::strlen(kSpareName)) == 0) leftovers.emplace_back(e->d_name);
  }
  closedir(d);
  for (const auto& name : leftovers) removeFile(spath(name));
  chunkedMarked_ = ::access(spath(kChunkedMarkName).c_str(), F_OK) == 0;
  std::sort(bases.begin(), bases.end());

  if (bases.empty()) {
    auto seg = Segment::createSpare(spath(kSpareName), config_.segmentBytes);
    seg->activate(0, spath(Segment::fileName(0)));
    syncDirectory(dir_);
    segments_.emplace_back(seg.release());
  } else {
    for (uint64_t base : bases) segments_.emplace_back(Segment::openExisting(spath(Segment::fileName(base)), base));
    for (size_t i = 0; i + 1 < segments_.size(); i++) {
      Segment& s = *segments_[i];
      uint64_t dataBytes = segments_[i + 1]->base() - s.base();
      if (dataBytes + frame::kEndBytes > s.dataCapacity())
        throw StoreError("ERR_CORRUPT",
                         "segments " + s.name() + " and " + segments_[i + 1]->name() + " are not contiguous",
                         static_cast<double>(s.base()));
      uint64_t sealedBytes;
      int64_t maxTs;
      if (s.sealedInHeader(&sealedBytes, &maxTs) && sealedBytes == dataBytes) s.maxTimestamp.store(maxTs);
      else scanSealed(s, dataBytes);
    }
    Segment& last = *segments_.back();
    uint64_t ckBase, ckOffset;
    int64_t ckTs;
    if (readCheckpoint(&ckBase, &ckOffset, &ckTs) && ckBase == last.base() &&
        ckOffset + frame::kEndBytes <= last.dataCapacity() && (ckOffset & 7) == 0)
      recoverTail(last, ckOffset, ckTs);
    else
      recoverTail(last, 0, INT64_MIN);
  }
  active_ = segments_.back().get();
  activeMaxTs_.store(active_->maxTimestamp.load());
  active_->maxTimestamp.store(INT64_MIN);  // the active segment's newest timestamp lives in activeMaxTs_
  end_.store(active_->base() + writeOffset_);
  recovery_.end = end_.load();
  durable_.store(segments_.front()->base());
  counters_->end = static_cast<double>(end_.load());
  counters_->start = static_cast<double>(segments_.front()->base());
  counters_->durable = static_cast<double>(durable_.load());
  nextKick_ = end_.load() + config_.flushBytes;
  preparer_ = std::thread([this] { preparerLoop(); });
  flusher_ = std::make_unique<Flusher>([this](uint64_t want) { syncTo(want); }, [this] { return end(); },
                                       [this] { return durable(); },
                                       config_.flush == FlushPolicy::Async ? config_.flushIntervalMs : 0);
}

namespace {

// True if what starts at `p` can follow a good frame: another good frame, an END marker, or
// unwritten space (a zero length word).
bool plausibleSuccessor(const uint8_t* p, uint64_t avail) {
  if (avail < 4) return true;
  if (frame::load32(p) == 0 || frame::isReservedWord(frame::load32(p))) return true;
  uint32_t len;
  auto c = frame::check(p, avail, &len);
  return c == frame::Check::Record || c == frame::Check::End || c == frame::Check::Padding;
}

// The first good frame at an 8-aligned offset in [from, limit) whose successor is plausible too,
// or `limit`. Used to step over a damaged frame whose length cannot be trusted.
uint64_t findNextFrame(const uint8_t* d, uint64_t from, uint64_t limit) {
  for (uint64_t k = (from + 7) & ~uint64_t(7); k + frame::kHeaderBytes <= limit; k += 8) {
    if (d[k + 3] != frame::kRecordMagic) continue;
    uint32_t len;
    if (frame::check(d + k, limit - k, &len) != frame::Check::Record) continue;
    const uint64_t after = k + frame::frameBytes(len);
    if (plausibleSuccessor(d + after, limit - after)) return k;
  }
  return limit;
}

// After unwritten space at `off` in the active segment: the first chunk boundary holding a record
// or padding, or `limit` if there is none. A chunked appender that died left its chunk's end
// unwritten while other chunks after it were filled; recovery pads the gap so they stay.
uint64_t dataAfterGap(const uint8_t* d, uint64_t off, uint64_t limit) {
  for (uint64_t b = (off / frame::kChunkBytes + 1) * frame::kChunkBytes; b + frame::kHeaderBytes <= limit;
       b += frame::kChunkBytes) {
    if (frame::load32(d + b) == 0) continue;
    if (frame::isReservedWord(frame::load32(d + b))) return b;  // a torn ordered frame: the data ends there
    uint32_t len;
    const auto c = frame::check(d + b, limit - b, &len);
    if (c == frame::Check::Record || c == frame::Check::Padding) return b;
  }
  return limit;
}

// The first position at or after `pos` (in `seg`, below `limit`) that is not padding. The magic
// byte is tested first: a read's next record is almost never padding.
uint64_t skipPadding(const Segment& seg, uint64_t pos, uint64_t limit) {
  const uint8_t* d = seg.data();
  while (pos < limit && d[pos - seg.base() + 3] == frame::kPaddingMagic) {
    uint32_t bytes;
    if (frame::check(d + (pos - seg.base()), limit - pos, &bytes) != frame::Check::Padding) break;
    pos += bytes;
  }
  return pos;
}

// Where reading can resume after the damaged frame at `off`: the frame its length word points to
// if that one is good, else the next good frame found by searching; `limit` if there is none.
uint64_t resumeAfter(const uint8_t* d, uint64_t off, uint64_t limit) {
  const uint32_t w = frame::load32(d + off);
  if (frame::isRecordWord(w)) {
    const uint64_t hint = off + frame::frameBytes(frame::payloadLength(w));
    uint32_t len;
    if (hint < limit && frame::check(d + hint, limit - hint, &len) == frame::Check::Record &&
        plausibleSuccessor(d + hint + frame::frameBytes(len), limit - hint - frame::frameBytes(len)))
      return hint;
  }
  return findNextFrame(d, off + 8, limit);
}

}  // namespace

void LogCore::reportDamage(const Segment& seg, uint64_t off, uint64_t nextOff, const char* reason) {
  recovery_.corrupt.push_back({seg.name(), seg.base() + off, reason, seg.base() + nextOff});
  damaged_[seg.base() + off] = seg.base() + nextOff;
}

void LogCore::scanSealed(Segment& seg, uint64_t dataBytes) {
  const uint8_t* d = seg.data();
  uint64_t off = 0;
  int64_t maxTs = INT64_MIN;
  while (off < dataBytes) {
    uint32_t len = 0;
    auto c = frame::check(d + off, dataBytes - off, &len);
    if (c == frame::Check::Record) {
      maxTs = std::max(maxTs, frame::load64(d + off + 8));
      off += frame::frameBytes(len);
      continue;
    }
    if (c == frame::Check::Padding) {
      off += len;
      continue;
    }
    const uint64_t next = resumeAfter(d, off, dataBytes);
    reportDamage(seg, off, next,
                 c == frame::Check::BadCrc ? "checksum mismatch"
                 : next < dataBytes       ? "damaged record header"
                                          : "damaged record header; the rest of this sealed segment cannot be read");
    off = next;
  }
  seg.maxTimestamp.store(maxTs);
}

void LogCore::recoverTail(Segment& seg, uint64_t from, int64_t maxTs) {
  uint8_t* d = seg.data();
  const uint64_t limit = seg.dataCapacity() - frame::kEndBytes;
  uint64_t off = from;
  while (off < limit) {
    uint32_t len = 0;
    auto c = frame::check(d + off, limit - off, &len);
    if (c == frame::Check::Record) {
      maxTs = std::max(maxTs, frame::load64(d + off + 8));
      off += frame::frameBytes(len);
      continue;
    }
    if (c == frame::Check::Padding) {
      off += len;
      continue;
    }
    // A zero length word is space never written: the end of the data (a kill -9 in the middle of
    // an append leaves exactly that, since the length word is stored last), unless a later chunk
    // holds data: then it is the unused end of a chunked appender's chunk, padded here. A reserved
    // word (an ordered frame torn mid-copy, frame::reserveIfCrossing) ends the data too, and so
    // does an END marker here (the next segment was lost). Anything else is a damaged frame: if a
    // good frame follows, the damage is in the middle: keep going, report it, reads of it fail.
    if (c == frame::Check::End || frame::isReservedWord(frame::load32(d + off))) break;
    if (frame::load32(d + off) == 0) {
      const uint64_t after = chunkedMarked_ ? dataAfterGap(d, off, limit) : limit;
      if (after >= limit) break;
      frame::writePadding(d + off, after - off);
      recovery_.paddedBytes += after - off;
      off = after;
      continue;
    }
    const uint64_t next = resumeAfter(d, off, limit);
    if (next >= limit) break;
    reportDamage(seg, off, next, c == frame::Check::BadCrc ? "checksum mismatch" : "damaged record header");
    off = next;
  }
  // Everything after the last good frame is a torn tail (or an END marker whose next segment was
  // lost): count it and zero it so a later crash cannot mistake it for data.
  // Appends continue here: make the rest of the segment present and writable (not the part
  // below the scan start, which would only be dirtied again for nothing).
  const uint64_t page = pageSize();
  const uint64_t prefaultFrom = (Segment::headerBytes() + from) & ~(page - 1);
  prefaultWrite(seg.data() - Segment::headerBytes() + prefaultFrom, seg.fileBytes() - prefaultFrom);
  uint64_t garbageEnd = endOfNonZero(d, off, seg.dataCapacity());
  recovery_.truncatedBytes = garbageEnd - off;
  if (garbageEnd > off) std::memset(d + off, 0, garbageEnd - off);
  writeOffset_ = off;
  seg.maxTimestamp.store(maxTs);
}

bool LogCore::readCheckpoint(uint64_t* segmentBase, uint64_t* offset, int64_t* maxTs) {
  int fd = ::open(spath(kCheckpointName).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  Checkpoint c{};
  ssize_t n = pread(fd, &c, sizeof c, 0);
  ::close(fd);
  if (n != static_cast<ssize_t>(sizeof c) || c.magic != kCheckpointMagic ||
      c.crc != crc32c(0, &c, offsetof(Checkpoint, crc)))
    return false;
  *segmentBase = c.segmentBase;
  *offset = c.offset;
  *maxTs = c.maxTimestamp;
  return true;
}

void LogCore::writeCheckpoint(uint64_t segmentBase, uint64_t offset, int64_t maxTs) {
  Checkpoint c{};
  c.magic = kCheckpointMagic;
  c.segmentBase = segmentBase;
  c.offset = offset;
  c.maxTimestamp = maxTs;
  c.crc = crc32c(0, &c, offsetof(Checkpoint, crc));
  // Best effort: a missing or stale checkpoint only makes the next recovery scan more.
  int fd = ::open(spath(kCheckpointName).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return;
  ssize_t n = pwrite(fd, &c, sizeof c, 0);
  (void)n;
  ::close(fd);
}

// An ordered append's frames are readable at once, unless a chunk before them is still open:
// then they become readable with it (advanceEnd).
void LogCore::publish(uint64_t newEnd) {
  if (openChunks_.load(std::memory_order_relaxed) == 0) setEnd(newEnd);
}

void LogCore::setEnd(uint64_t e) {
  end_.store(e, std::memory_order_release);
  counters_->end = static_cast<double>(e);
  if (config_.flush == FlushPolicy::Async && e >= nextKick_) {
    nextKick_ = e + config_.flushBytes;
    flusher_->kick();
  }
}

uint64_t LogCore::append(const uint8_t* payload, uint32_t len, int64_t ts) {
  if (len > config_.maxRecordBytes)
    throw StoreError("ERR_RECORD_TOO_LARGE", "payload of " + std::to_string(len) + " bytes exceeds maxRecordBytes (" +
                                                 std::to_string(config_.maxRecordBytes) + ")");
  const uint32_t crc = frame::checksum(len, ts, payload);
  const uint64_t bytes = frame::frameBytes(len);
  std::lock_guard<AppendLock> g(appendMu_);
  if (writeOffset_ + bytes + frame::kEndBytes > active_->dataCapacity()) roll();
  Segment* s = active_;
  frame::reserveIfCrossing(s->data(), writeOffset_, bytes);
  frame::write(s->data() + writeOffset_, payload, len, ts, crc);
  const uint64_t pos = s->base() + writeOffset_;
  writeOffset_ += bytes;
  noteTimestamp(ts);
  publish(pos + bytes);
  return pos;
}

template <typename LengthOf, typename WriteFrame>
uint64_t LogCore::appendFrames(size_t count, int64_t ts, LengthOf lengthOf, WriteFrame writeFrame) {
  std::lock_guard<AppendLock> g(appendMu_);
  uint64_t first = active_->base() + writeOffset_;
  size_t done = 0;
  noteTimestamp(ts);  // before the first frame: a roll in the middle seals with it
  try {
    for (; done < count; done++) {
      const uint32_t len = lengthOf(done);
      const uint64_t bytes = frame::frameBytes(len);
      if (writeOffset_ + bytes + frame::kEndBytes > active_->dataCapacity()) {
        roll();
        noteTimestamp(ts);
        if (done == 0) first = active_->base();
      }
      frame::reserveIfCrossing(active_->data(), writeOffset_, bytes);
      writeFrame(active_->data() + writeOffset_, done, len);
      writeOffset_ += bytes;
    }
  } catch (...) {
    if (done > 0) publish(active_->base() + writeOffset_);
    throw;
  }
  publish(active_->base() + writeOffset_);
  return first;
}

uint64_t LogCore::appendBatch(const BatchItem* items, size_t count, int64_t ts) {
  return appendFrames(
      count, ts, [items](size_t i) { return items[i].len; },
      [items, ts](uint8_t* dst, size_t i, uint32_t len) { frame::write(dst, items[i].data, len, ts, items[i].crc); });
}

uint64_t LogCore::appendPacked(const uint8_t* bytes, const uint32_t* lengths, size_t count, int64_t ts) {
  // Each record is checksummed as it is copied (frame::writeChecked); records are read in order,
  // so the source pointer just moves on.
  return appendFrames(
      count, ts, [lengths](size_t i) { return lengths[i]; },
      [&bytes, ts](uint8_t* dst, size_t, uint32_t len) {
        frame::writeChecked(dst, bytes, len, ts);
        bytes += len;
      });
}

void LogCore::roll() {
  // Chunks live in the active segment: seal them all, so it holds only whole frames and padding,
  // and make all of it readable before readers can see the next segment (a reader that finds the
  // next segment reads this one to its end and continues from there).
  sealChunksBefore(UINT64_MAX);
  advanceEnd();
  std::unique_ptr<Segment> spare = takeSpare();
  const uint64_t newBase = active_->base() + writeOffset_;
  try {
    spare->activate(newBase, spath(Segment::fileName(newBase)));
  } catch (...) {
    const std::string path = spare->path();
    spare.reset();
    removeFile(path);
    wantSpare();
    throw;
  }
  const int64_t sealedMaxTs = activeMaxTs_.load(std::memory_order_relaxed);
  active_->maxTimestamp.store(sealedMaxTs);
  active_->seal(writeOffset_, sealedMaxTs);
  std::shared_ptr<Segment> next(spare.release());
  std::shared_ptr<Segment> sealed;
  {
    std::lock_guard<std::mutex> g(listMu_);
    sealed = segments_.back();
    segments_.push_back(next);
    dirDirty_ = true;
  }
  {
    // The segment sealed one roll ago is unlikely to be read soon by tailing readers: let the
    // preparer drop its page-table entries. Then, with the spare renamed, ask for the next spare.
    std::lock_guard<std::mutex> g(spareMu_);
    toRelease_ = std::move(sealedBefore_);
    sealedBefore_ = std::move(sealed);
  }
  wantSpare();
  active_ = next.get();
  writeOffset_ = 0;
  activeMaxTs_.store(INT64_MIN, std::memory_order_relaxed);
}

AppendLease* LogCore::openLease() {
  std::lock_guard<AppendLock> g(appendMu_);
  if (!chunkedMarked_) {
    closeFile(openFile(spath(kChunkedMarkName), O_RDWR | O_CREAT));
    chunkedMarked_ = true;
    std::lock_guard<std::mutex> g2(listMu_);
    dirDirty_ = true;  // the next sync makes the mark durable with the chunks it covers
  }
  leases_.push_back(std::make_unique<AppendLease>());
  return leases_.back().get();
}

void LogCore::closeLease(AppendLease* lease) {
  std::lock_guard<AppendLock> g(appendMu_);
  if (lease->open && sealLease(*lease, true)) advanceEnd();
  for (auto it = leases_.begin(); it != leases_.end(); ++it)
    if (it->get() == lease) {
      leases_.erase(it);
      break;
    }
}

uint64_t LogCore::appendLeased(AppendLease& l, const uint8_t* payload, uint32_t len, int64_t ts) {
  const uint64_t bytes = frame::frameBytes(len);
  if (bytes > kLeaseMaxFrame) {
    sealOwnChunk(l);
    return append(payload, len, ts);
  }
  uint64_t w = l.word.load(std::memory_order_relaxed);
  const uint64_t off = w >> 2;
  // Claim: the owner marks the word busy, so no one seals the chunk under the frame being written.
  if (!(w & AppendLease::kSealed) && off + bytes <= l.limit &&
      l.word.compare_exchange_strong(w, w | AppendLease::kBusy, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
    Segment* s = l.seg;
    frame::writeChecked(s->data() + off, payload, len, ts);
    if (ts > l.maxTs) l.maxTs = ts;
    l.word.store((off + bytes) << 2, std::memory_order_release);
    return s->base() + off;
  }
  return refillLease(l, payload, len, ts);
}

void LogCore::sealOwnChunk(AppendLease& l) {
  if (l.word.load(std::memory_order_relaxed) & AppendLease::kSealed) return;
  std::lock_guard<AppendLock> g(appendMu_);
  if (l.open && sealLease(l, true)) advanceEnd();
}

// Seals l's chunk: swaps kSealed into its word once the owner is not mid-frame (waiting for that
// only if asked: the owner's frame takes nanoseconds unless its thread was preempted), then pads
// the chunk's unused end. False if the owner was busy and waitForOwner was not set.
bool LogCore::sealLease(AppendLease& l, bool waitForOwner) {
  uint64_t w = l.word.load(std::memory_order_acquire);
  for (unsigned spins = 0;;) {
    if (w & AppendLease::kBusy) {
      if (!waitForOwner) return false;
      if (++spins % 1024 == 0) std::this_thread::yield();
#if defined(__x86_64__) || defined(__i386__)
      else __builtin_ia32_pause();
#endif
      w = l.word.load(std::memory_order_acquire);
      continue;
    }
    if (l.word.compare_exchange_weak(w, w | AppendLease::kSealed, std::memory_order_acq_rel, std::memory_order_acquire))
      break;
  }
  const uint64_t used = w >> 2;
  if (used < l.limit) frame::writePadding(l.seg->data() + used, l.limit - used);
  if (l.maxTs != INT64_MIN) noteTimestamp(l.maxTs);
  l.open = false;
  openChunks_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

// end_ = the start of the oldest open chunk, or the tail: everything before it is whole frames
// (sealed chunks, ordered appends) and padding.
void LogCore::advanceEnd() {
  uint64_t e = active_->base() + writeOffset_;
  if (openChunks_.load(std::memory_order_relaxed) > 0)
    for (auto& l : leases_)
      if (l->open) e = std::min(e, l->seg->base() + l->start);
  if (e > end_.load(std::memory_order_relaxed)) setEnd(e);
}

// Seals l's chunk, takes a new one and writes the frame into it, all under the append lock: a
// chunk is never handed out empty (a roll by another thread before the owner wrote to it would
// otherwise seal it into a chunk of padding alone).
uint64_t LogCore::refillLease(AppendLease& l, const uint8_t* payload, uint32_t len, int64_t ts) {
  const uint64_t bytes = frame::frameBytes(len);
  std::lock_guard<AppendLock> g(appendMu_);
  if (l.open) sealLease(l, true);
  // A chunk runs from the tail to the next chunk boundary (a whole chunk when the tail is on one),
  // never past it: then whatever follows an unfinished chunk starts on a boundary, where recovery
  // looks for it. If the frame does not fit before the boundary, the chunk starts there instead
  // (the space before it becomes padding), or in a new segment.
  uint64_t cap = active_->dataCapacity() - frame::kEndBytes;
  uint64_t start = writeOffset_;
  uint64_t limit = std::min((start / frame::kChunkBytes + 1) * frame::kChunkBytes, cap);
  if (start + bytes > limit) {
    start = limit;
    limit = std::min(start + frame::kChunkBytes, cap);
    if (start + bytes > limit) {
      roll();  // an empty segment takes any frame that passed the maxRecordBytes check
      cap = active_->dataCapacity() - frame::kEndBytes;
      start = 0;
      limit = std::min(frame::kChunkBytes, cap);
    }
  }
  if (start > writeOffset_) frame::writePadding(active_->data() + writeOffset_, start - writeOffset_);
  l.seg = active_;
  l.first = start;
  l.start = start;
  l.limit = limit;
  frame::writeChecked(active_->data() + start, payload, len, ts);
  l.maxTs = ts;
  l.open = true;
  l.seenWord = AppendLease::kBusy;  // a word the chunk never has while idle
  l.openedTick = sealTicks_;
  writeOffset_ = l.limit;
  if (openChunks_.fetch_add(1, std::memory_order_relaxed) == 0) {
    { std::lock_guard<std::mutex> g2(spareMu_); }  // the preparer sleeps untimed while no chunk is open
    spareCv_.notify_all();
  }
  l.word.store((start + bytes) << 2, std::memory_order_release);
  advanceEnd();
  return active_->base() + start;
}

bool LogCore::sealChunksBefore(uint64_t position, const AppendLease* keep) {
  if (openChunks_.load(std::memory_order_relaxed) == 0) return false;
  bool sealed = false;
  for (auto& l : leases_)
    if (l->open && l.get() != keep && l->seg->base() + l->start < position) sealed |= sealLease(*l, true);
  return sealed;
}

AppendLease* LogCore::chunkHolding(uint64_t position) {
  for (auto& l : leases_)
    if (l->open && position >= l->seg->base() + l->first && position < l->seg->base() + l->limit) return l.get();
  return nullptr;
}

bool LogCore::publishChunk(AppendLease& l) {
  // Open, so not sealed (that takes the lock held here): the offset is its whole frames' end.
  const uint64_t written = l.word.load(std::memory_order_acquire) >> 2;
  if (written <= l.start) return false;
  l.start = written;
  return true;
}

void LogCore::settle(uint64_t position) {
  std::lock_guard<AppendLock> g(appendMu_);
  // The chunk holding the last byte before `position` is published, not sealed, if its whole
  // frames reach `position`: its owner goes on filling it, and nothing is padded. Chunks before
  // it must be sealed (their unwritten ends are gaps), and so must it if it is not written that far.
  AppendLease* home = position > 0 ? chunkHolding(position - 1) : nullptr;
  if (home && home->seg->base() + (home->word.load(std::memory_order_acquire) >> 2) < position) home = nullptr;
  bool moved = sealChunksBefore(home ? home->seg->base() + home->first : position, home);
  if (home) moved |= publishChunk(*home);
  if (moved) advanceEnd();
}

void LogCore::sealIdleLeases() {
  // Never wait for the append lock here: a roll holding it may be waiting for this thread's spare.
  if (!appendMu_.try_lock()) return;
  std::lock_guard<AppendLock> g(appendMu_, std::adopt_lock);
  sealTicks_++;
  bool moved = false;
  // A chunk open alone blocks nothing but its own records: publish them, keep it open, pad nothing.
  if (openChunks_.load(std::memory_order_relaxed) == 1) {
    for (auto& l : leases_)
      if (l->open) moved = publishChunk(*l);
  } else {
    for (auto& l : leases_) {
      if (!l->open) continue;
      const uint64_t w = l->word.load(std::memory_order_relaxed);
      if ((w == l->seenWord || sealTicks_ - l->openedTick >= kMaxChunkTicks) && sealLease(*l, false)) moved = true;
      else l->seenWord = w;
    }
  }
  if (moved) advanceEnd();
}

uint64_t LogCore::tail() {
  std::lock_guard<AppendLock> g(appendMu_);
  return active_->base() + writeOffset_;
}

std::unique_ptr<Segment> LogCore::takeSpare() {
  std::unique_lock<std::mutex> lk(spareMu_);
  // Wait for a spare while the preparer is making one; if it failed (e.g. ENOSPC), create one
  // here, so the error reaches the caller.
  spareCv_.wait(lk, [this] { return !spares_.empty() || stopping_ || (!preparing_ && prepareFailed_); });
  if (!spares_.empty()) {
    std::unique_ptr<Segment> s = std::move(spares_.front());
    spares_.pop_front();
    return s;
  }
  lk.unlock();
  // Under the append lock, so one at a time: the plain name (its error names a stable path).
  return Segment::createSpare(spath(kSpareName), config_.segmentBytes);
}

std::string LogCore::spareName() { return spath(std::string(kSpareName) + "." + std::to_string(spareSeq_++)); }

void LogCore::wantSpare() {
  {
    std::lock_guard<std::mutex> g(spareMu_);
    const auto now = std::chrono::steady_clock::now();
    sparesWanted_ = now - lastRoll_ < kFastRoll ? 2 : 1;
    lastRoll_ = now;
    prepareFailed_ = false;
  }
  spareCv_.notify_all();
}

void LogCore::preparerLoop() {
  std::unique_lock<std::mutex> lk(spareMu_);
  const auto work = [this] { return stopping_ || (!prepareFailed_ && spares_.size() < sparesWanted_) || toRelease_; };
  for (;;) {
    if (openChunks_.load(std::memory_order_relaxed) > 0) {
      if (!spareCv_.wait_for(lk, sealEvery_, work)) {
        lk.unlock();
        sealIdleLeases();
        lk.lock();
        continue;
      }
    } else {
      spareCv_.wait(lk, [&] { return work() || openChunks_.load(std::memory_order_relaxed) > 0; });
      if (!work()) continue;
    }
    if (stopping_) return;
    preparing_ = true;
    std::shared_ptr<Segment> release = std::move(toRelease_);
    const bool make = !prepareFailed_ && spares_.size() < sparesWanted_;
    const std::string path = make ? spareName() : std::string();
    lk.unlock();
    if (release) release->releasePages();
    release.reset();
    std::unique_ptr<Segment> s;
    bool failed = false;
    if (make) {
      try {
        s = Segment::createSpare(path, config_.segmentBytes);
      } catch (const StoreError&) {
        failed = true;  // the roll that needs it will try again and report the error to its caller
      }
    }
    lk.lock();
    preparing_ = false;
    if (s) spares_.push_back(std::move(s));
    if (failed) prepareFailed_ = true;
    spareCv_.notify_all();
  }
}

std::shared_ptr<Segment> LogCore::openChunkFor(uint64_t pos, uint64_t* written) {
  std::lock_guard<AppendLock> g(appendMu_);
  AppendLease* home = chunkHolding(pos);
  if (sealChunksBefore(home ? home->seg->base() + home->first : pos + 1, home)) advanceEnd();
  if (!home) return nullptr;
  // Open, so not sealed (that takes the lock held here): the offset is its whole frames' end.
  *written = home->seg->base() + (home->word.load(std::memory_order_acquire) >> 2);
  std::lock_guard<std::mutex> g2(listMu_);
  return segments_.back();
}

std::shared_ptr<Segment> LogCore::locate(uint64_t pos, uint64_t* offset, uint32_t* len, int64_t* ts, uint64_t* next) {
  std::shared_ptr<Segment> seg;
  uint64_t segEnd = 0;
  // A position a chunked append returned may lie behind an open chunk, or in one (read-your-write).
  if (pos >= end_.load(std::memory_order_acquire) && openChunks_.load(std::memory_order_relaxed) > 0)
    seg = openChunkFor(pos, &segEnd);
  if (!seg || pos >= segEnd) {
    std::lock_guard<std::mutex> g(listMu_);
    const uint64_t e = end_.load(std::memory_order_acquire);
    if (pos < segments_.front()->base() || pos >= e)
      throw StoreError("ERR_OUT_OF_RANGE",
                       "position " + std::to_string(pos) + " is outside the log [" +
                           std::to_string(segments_.front()->base()) + ", " + std::to_string(e) + ")",
                       static_cast<double>(pos));
    auto it = std::upper_bound(segments_.begin(), segments_.end(), pos,
                               [](uint64_t p, const std::shared_ptr<Segment>& s) { return p < s->base(); });
    --it;
    seg = *it;
    segEnd = (it + 1 != segments_.end()) ? (*(it + 1))->base() : e;
  }
  const uint64_t off = pos - seg->base();
  uint32_t l = 0;
  auto c = frame::check(seg->data() + off, segEnd - pos, &l);
  if (c != frame::Check::Record || (pos & 7))
    throwUnreadable(pos, (pos & 7) ? frame::Check::NotRecord : c,
                    c == frame::Check::BadCrc ? std::min(pos + frame::frameBytes(l), segEnd) : 0);
  *offset = off;
  *len = l;
  *ts = frame::load64(seg->data() + off + 8);
  *next = skipPadding(*seg, pos + frame::frameBytes(l), segEnd);
  return seg;
}

uint64_t LogCore::collect(uint64_t pos, uint64_t maxBytes, uint64_t maxRecords, std::vector<ReadSpan>& spans) {
  if (pos > end_.load(std::memory_order_acquire) && openChunks_.load(std::memory_order_relaxed) > 0)
    settle(pos + 1);
  uint64_t total = 0, records = 0;
  for (;;) {
    std::shared_ptr<Segment> seg;
    uint64_t segEnd;
    {
      std::lock_guard<std::mutex> g(listMu_);
      const uint64_t e = end_.load(std::memory_order_acquire);
      if (records == 0 && (pos < segments_.front()->base() || pos > e))
        throw StoreError("ERR_OUT_OF_RANGE",
                         "position " + std::to_string(pos) + " is outside the log [" +
                             std::to_string(segments_.front()->base()) + ", " + std::to_string(e) + "]",
                         static_cast<double>(pos));
      if (pos >= e) return pos;
      auto it = std::upper_bound(segments_.begin(), segments_.end(), pos,
                                 [](uint64_t p, const std::shared_ptr<Segment>& s) { return p < s->base(); });
      if (it == segments_.begin()) return pos;  // retention removed it meanwhile
      --it;
      seg = *it;
      segEnd = (it + 1 != segments_.end()) ? (*(it + 1))->base() : e;
    }
    const uint64_t startOff = pos - seg->base();
    uint64_t off = startOff;
    const uint8_t* d = seg->data();
    bool stop = false;
    while (pos < segEnd && records < maxRecords) {
      uint32_t len = 0;
      auto c = frame::check(d + off, segEnd - pos, &len);
      if (c == frame::Check::Padding && !(pos & 7)) {
        // A batch never spans padding (callers number its records from its first position): end
        // it here, or, with no record yet, return an empty batch whose next is past the padding.
        if (off > startOff) spans.push_back({seg, startOff, off - startOff});
        return skipPadding(*seg, pos, segEnd);
      }
      if (c != frame::Check::Record || (pos & 7)) {
        if (records == 0)
          throwUnreadable(pos, (pos & 7) ? frame::Check::NotRecord : c,
                          c == frame::Check::BadCrc ? std::min(pos + frame::frameBytes(len), segEnd) : 0);
        stop = true;  // the caller's next batch starts here and reports it
        break;
      }
      const uint64_t bytes = frame::frameBytes(len);
      if (records > 0 && total + bytes > maxBytes) {
        stop = true;
        break;
      }
      total += bytes;
      records++;
      off += bytes;
      pos += bytes;
    }
    if (off > startOff) spans.push_back({seg, startOff, off - startOff});
    // Past padding right after the batch, so its next is the next record when that is known.
    if (stop || records >= maxRecords) return skipPadding(*seg, pos, segEnd);
  }
}

void LogCore::throwUnreadable(uint64_t pos, frame::Check c, uint64_t guessNext) {
  auto it = damaged_.find(pos);
  if (it != damaged_.end())
    throw StoreError("ERR_CORRUPT",
                     "record at position " + std::to_string(pos) + " is damaged; reading can resume at " +
                         std::to_string(it->second),
                     static_cast<double>(pos), 0, static_cast<double>(it->second));
  if (c == frame::Check::BadCrc)
    throw StoreError("ERR_CORRUPT", "record at position " + std::to_string(pos) + " fails its checksum",
                     static_cast<double>(pos), 0, guessNext > pos ? static_cast<double>(guessNext) : -1);
  throw StoreError("ERR_OUT_OF_RANGE", "position " + std::to_string(pos) + " is not the start of a record",
                   static_cast<double>(pos));
}

uint64_t LogCore::start() {
  std::lock_guard<std::mutex> g(listMu_);
  return segments_.front()->base();
}

bool LogCore::rollNow() {
  std::lock_guard<AppendLock> g(appendMu_);
  if (writeOffset_ == 0) return false;
  roll();
  return true;
}

uint64_t LogCore::activeBase() {
  std::lock_guard<AppendLock> g(appendMu_);
  return active_->base();
}

size_t LogCore::segmentCount() {
  std::lock_guard<std::mutex> g(listMu_);
  return segments_.size();
}

void LogCore::syncTo(uint64_t want) {
  // Data behind an open chunk is not part of the log yet: seal what is before `want`.
  if (want > end_.load(std::memory_order_acquire) && openChunks_.load(std::memory_order_relaxed) > 0)
    settle(want);
  std::lock_guard<std::mutex> g(syncMu_);
  const uint64_t from = durable_.load();
  if (from >= want) return;
  const uint64_t target = end_.load(std::memory_order_acquire);
  struct Work {
    std::shared_ptr<Segment> seg;
    uint64_t fileFrom, fileTo;
  };
  std::vector<Work> work;
  bool dirty;
  {
    std::lock_guard<std::mutex> g2(listMu_);
    for (size_t i = 0; i < segments_.size(); i++) {
      const auto& s = segments_[i];
      const bool sealed = i + 1 < segments_.size();
      const uint64_t segEnd = sealed ? segments_[i + 1]->base() : target;
      if (segEnd < from) continue;  // synced before (a sealed one ending at `from` may still lack its END marker)
      // A segment created since the last sync also needs its header (and, when sealed, END marker).
      const uint64_t h = Segment::headerBytes();
      uint64_t fileFrom = s->base() >= from ? 0 : h + (from - s->base());
      uint64_t fileTo = h + (std::min(segEnd, target) - s->base()) + (sealed ? frame::kEndBytes : 0);
      if (sealed) fileFrom = 0;  // its header was rewritten when it was sealed
      work.push_back({s, fileFrom, std::min(fileTo, s->fileBytes())});
    }
    dirty = dirDirty_;
    dirDirty_ = false;
  }
  try {
    for (auto& w : work) syncRange(w.seg->data() - Segment::headerBytes(), w.fileFrom, w.fileTo, w.seg->path());
    if (dirty) syncDirectory(dir_);
  } catch (...) {
    if (dirty) {
      std::lock_guard<std::mutex> g2(listMu_);
      dirDirty_ = true;
    }
    throw;
  }
  durable_.store(target, std::memory_order_release);
  counters_->durable = static_cast<double>(target);
  if (!work.empty()) {
    const auto& last = work.back().seg;
    // A segment not yet sealed keeps its newest timestamp in activeMaxTs_ (an upper bound here).
    int64_t maxTs = last->maxTimestamp.load();
    if (maxTs == INT64_MIN) maxTs = activeMaxTs_.load();
    if (target >= last->base()) writeCheckpoint(last->base(), target - last->base(), maxTs);
  }
}

void LogCore::flushSync() { syncTo(openChunks_.load(std::memory_order_relaxed) > 0 ? tail() : end()); }

void LogCore::requestDurable(uint64_t position) { flusher_->request(position); }

void LogCore::addListener(DurableListener* l) { flusher_->addListener(l); }

void LogCore::removeListener(DurableListener* l) { flusher_->removeListener(l); }

uint64_t LogCore::applyRetention(int64_t now, int64_t maxAgeMs, int64_t maxBytes) {
  std::lock_guard<AppendLock> g(appendMu_);
  std::lock_guard<std::mutex> g2(listMu_);
  const uint64_t e = end_.load();
  uint64_t deleted = 0;
  while (segments_.size() > 1) {
    const auto& s = segments_.front();
    const bool expired = maxAgeMs >= 0 && s->maxTimestamp.load() < now - maxAgeMs;
    const bool tooBig = maxBytes >= 0 && e - s->base() > static_cast<uint64_t>(maxBytes);
    if (!expired && !tooBig) break;
    s->markDeleted();
    segments_.erase(segments_.begin());
    deleted++;
  }
  counters_->start = static_cast<double>(segments_.front()->base());
  return deleted;
}

}  // namespace mqlab
