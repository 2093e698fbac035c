// AppendLease: one chunked appender's reservation of log space (a CommitLog handle opened with
// appendMode 'chunked').
//
// Two threads appending to one log through the append lock spend most of their time moving the
// lock's, the tail's and the data's cache lines between cores. A lease takes the log's space a
// chunk (up to frame::kChunkBytes, ending on a multiple of it in the segment) at a time under the
// append lock, then fills it with no shared write at all: each append claims the next bytes by one compare-and-swap on
// the lease's own cache line (word: offset << 2 | flags).
//
//   word:  offset << 2 | kBusy (the owner is writing a frame) | kSealed (the chunk is closed)
//
// Only the owner sets kBusy, and only from a word without it; whoever seals (the owner when the
// chunk is full, the log's preparer when the chunk sat idle, a roll, or a reader or sync that needs
// a position behind it) swaps kSealed into a word without kBusy, under the append lock, then pads
// the rest of the chunk. So a sealed chunk holds only whole frames and padding, and nothing is
// written into it after the seal.
//
// Visibility: the log's end (what readers see) is the published start of the oldest open chunk,
// or the tail when none is open. A chunk's published start begins at its first byte and moves up
// to its whole frames' end (without sealing it) when a sync or read needs records in it, and on
// the preparer's tick while it is the only open chunk; a record in a later chunk becomes readable
// when every chunk before it is sealed.
#pragma once
#include <atomic>
#include <cstdint>

namespace mqlab {

class Segment;

struct alignas(64) AppendLease {
  static constexpr uint64_t kBusy = 1, kSealed = 2;

  std::atomic<uint64_t> word{kSealed};  // no chunk yet
  // Set under the append lock when a chunk is granted; read by the owner without it (only the
  // owner's own refill changes them).
  Segment* seg = nullptr;
  uint64_t limit = 0;  // data offset where the chunk ends
  int64_t maxTs = INT64_MIN;  // owner's newest timestamp in the chunk; read by the sealer after it seals

  // Under the append lock.
  uint64_t first = 0;      // data offset where the chunk begins
  uint64_t start = 0;      // published start: its frames before it are readable (end_ counts from it)
  bool open = false;       // a chunk is granted and not yet sealed
  uint64_t seenWord = 0;   // the word at the preparer's last look (idle detection)
  uint64_t openedTick = 0; // the preparer's tick when the chunk was granted
};

}  // namespace mqlab
