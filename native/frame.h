// The on-disk layout of a log segment. Drawn once, here.
//
// Segment file "<base position, 20 digits>.log", preallocated to segmentBytes and mapped:
//
//   0                         64                                                  segmentBytes
//   +-------------------------+------------+------------+-----+-------------+------------+
//   | segment header (64 B)   | frame      | frame      | ... | END marker  | zeros      |
//   +-------------------------+------------+------------+-----+-------------+------------+
//
// Segment header (little-endian):
//   +-----------+-----------+-------------+-------------+---------------+---------+---------+
//   | magic u64 | base u64  | fileBytes   | sealedBytes | maxTimestamp  | flags   | crc32c  |
//   | MQLSEG01  | position  | u64         | u64         | i64 (ms)      | u32     | u32     |
//   +-----------+-----------+-------------+-------------+---------------+---------+---------+
//   sealedBytes / maxTimestamp are written when the segment is sealed (flags & kSealed);
//   crc32c covers the 44 bytes before it. Position of a byte = base + (file offset - 64).
//
// Record frame (8-byte aligned, little-endian):
//
//   0            4            8                        16                   16+len   align 8
//   +------------+------------+------------------------+--------------------+--------+
//   | length u32 | crc32c u32 | timestamp i64 (ms)     | payload[len]       | pad    |
//   +------------+------------+------------------------+--------------------+--------+
//   length = 0xA5 << 24 | len: the top byte marks a record start (len < 16 MiB), so a position
//   that is not a record boundary is told apart from a damaged record. crc32c covers the length
//   word, the timestamp and the payload. A zero length word (fresh preallocated space) ends the
//   data of the active segment.
//
// END marker (16 bytes) after the last frame of a sealed segment: length word 0xED000000, crc
// field 0x53454745 ("EGES"), then zeros. The next segment's base is the END marker's position, so
// positions have no gaps: a record's `next` is always the next record (readers step over padding)
// or the log end.
//
// Padding frame (8 bytes or more, 8-aligned): space no record will use, which readers step over.
//   +------------------------------+--------------------+-------------------------+
//   | 0xA6 << 24 | bytes / 8  u32  | crc32c of the word | anything (ignored)      |
//   +------------------------------+--------------------+-------------------------+
// Written where a chunked appender's reservation ends unused (append-lease.h) and where recovery
// finds such an unfinished reservation. Chunks end at multiples of kChunkBytes in a segment's data
// (or at its end), so whatever follows an unfinished chunk starts at a multiple: recovery looks
// for data after one there.
//
// Reserved word (0xA7 << 24 | len): an ordered frame that crosses a chunk boundary stores it
// before its payload (then the payload, then the real length word), so a kill -9 mid-copy leaves
// a word that says "the data ends here", and recovery never mistakes payload bytes lying on a
// chunk boundary for a chunk's first frame.
#pragma once
#include <cstdint>
#include <cstring>

#include "crc32c.h"

namespace mqlab {
namespace frame {

constexpr uint32_t kHeaderBytes = 16;
constexpr uint32_t kRecordMagic = 0xA5u;
constexpr uint32_t kMaxPayload = (1u << 24) - 1;
constexpr uint32_t kEndWord = 0xED000000u;
constexpr uint32_t kEndCheck = 0x53454745u;
constexpr uint32_t kEndBytes = 16;

constexpr uint32_t kPaddingMagic = 0xA6u;
constexpr uint32_t kReservedMagic = 0xA7u;
constexpr uint64_t kMaxPaddingBytes = uint64_t(0x00FFFFFFu) * 8;
constexpr uint64_t kChunkBytes = 64u << 10;

constexpr uint32_t kSegmentHeaderBytes = 64;
constexpr uint64_t kSegmentMagic = 0x31304745534C514DULL;  // "MQLSEG01"
constexpr uint32_t kSealed = 1;

inline uint64_t frameBytes(uint32_t len) { return (uint64_t(kHeaderBytes) + len + 7) & ~uint64_t(7); }
inline uint32_t lengthWord(uint32_t len) { return (kRecordMagic << 24) | len; }
inline bool isRecordWord(uint32_t w) { return (w >> 24) == kRecordMagic; }
inline uint32_t payloadLength(uint32_t w) { return w & 0x00FFFFFFu; }

inline uint32_t load32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint32_t paddingCheck(uint32_t w) { return crc32c(0, &w, 4); }
inline int64_t load64(const uint8_t* p) { int64_t v; std::memcpy(&v, p, 8); return v; }

// Writes one frame at dst. The length word goes last, so a reader of the mapping (or recovery after
// a kill -9 mid-copy) never sees a length word without its payload behind it.
inline void write(uint8_t* dst, const uint8_t* payload, uint32_t len, int64_t ts, uint32_t crc) {
  std::memcpy(dst + 8, &ts, 8);
  std::memcpy(dst + 16, payload, len);
  std::memcpy(dst + 4, &crc, 4);
  uint32_t w = lengthWord(len);
  __atomic_store_n(reinterpret_cast<uint32_t*>(dst), w, __ATOMIC_RELEASE);
}

inline uint32_t checksum(uint32_t len, int64_t ts, const uint8_t* payload) {
  return crc32cFrame(lengthWord(len), ts, payload, len);
}

// As write, with the checksum taken over the copy in the segment rather than over `payload`: one
// pass over the bytes while they are in cache, and a source that changes during the copy (a
// SharedArrayBuffer) cannot leave a frame whose checksum does not match what was stored.
inline void writeChecked(uint8_t* dst, const uint8_t* payload, uint32_t len, int64_t ts) {
  std::memcpy(dst + 8, &ts, 8);
  std::memcpy(dst + 16, payload, len);
  const uint32_t crc = checksum(len, ts, dst + 16);
  std::memcpy(dst + 4, &crc, 4);
  __atomic_store_n(reinterpret_cast<uint32_t*>(dst), lengthWord(len), __ATOMIC_RELEASE);
}

inline bool isReservedWord(uint32_t w) { return (w >> 24) == kReservedMagic; }

// Before an ordered frame of `bytes` at data offset `off` is written: if it crosses a chunk
// boundary, marks its start reserved, ordered before the payload stores that follow.
inline void reserveIfCrossing(uint8_t* data, uint64_t off, uint64_t bytes) {
  if (off / kChunkBytes == (off + bytes - 1) / kChunkBytes) return;
  __atomic_store_n(reinterpret_cast<uint32_t*>(data + off), (kReservedMagic << 24) | static_cast<uint32_t>(bytes >> 3),
                   __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
}

// Fills [dst, dst + bytes) (8-aligned, bytes a multiple of 8) with padding frames, the length
// word of each stored last, like a record's.
inline void writePadding(uint8_t* dst, uint64_t bytes) {
  while (bytes > 0) {
    const uint64_t n = bytes < kMaxPaddingBytes ? bytes : kMaxPaddingBytes;
    const uint32_t w = (kPaddingMagic << 24) | static_cast<uint32_t>(n / 8);
    const uint32_t c = paddingCheck(w);
    std::memcpy(dst + 4, &c, 4);
    __atomic_store_n(reinterpret_cast<uint32_t*>(dst), w, __ATOMIC_RELEASE);
    dst += n;
    bytes -= n;
  }
}

// What lies at `p` (with `avail` bytes of segment data left). For Padding, *lenOut is its size in
// bytes (not a payload length).
enum class Check { Record, End, NotRecord, Truncated, BadCrc, Padding };

inline Check check(const uint8_t* p, uint64_t avail, uint32_t* lenOut) {
  if (avail < 8) return Check::Truncated;
  uint32_t w = load32(p);
  if ((w >> 24) == kPaddingMagic && (w & 0x00FFFFFFu) != 0 && load32(p + 4) == paddingCheck(w)) {
    const uint64_t n = uint64_t(w & 0x00FFFFFFu) * 8;
    if (n > avail) return Check::Truncated;
    *lenOut = static_cast<uint32_t>(n);
    return Check::Padding;
  }
  if (avail < kHeaderBytes) return Check::Truncated;
  if (w == kEndWord && load32(p + 4) == kEndCheck) return Check::End;
  if (!isRecordWord(w)) return Check::NotRecord;
  uint32_t len = payloadLength(w);
  *lenOut = len;
  if (frameBytes(len) > avail) return Check::Truncated;
  if (crc32cFrame(w, load64(p + 8), p + 16, len) != load32(p + 4)) return Check::BadCrc;
  return Check::Record;
}

}  // namespace frame
}  // namespace mqlab
