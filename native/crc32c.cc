#include "crc32c.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define MQLAB_X86 1
#endif

namespace mqlab {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

struct Table {
  uint32_t t[256];
  Table() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[i] = c;
    }
  }
};
const Table kTable;

uint32_t crcTable(uint32_t crc, const uint8_t* p, size_t len) {
  crc = ~crc;
  while (len--) crc = kTable.t[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// Long inputs are checksummed as three interleaved streams (the crc32 instruction has a latency
// of three cycles but can start one per cycle), then combined: the register after stream A
// followed by stream B is shift(regA) ^ regB, where shift feeds kBlock zero bytes (a linear map,
// applied with four byte-indexed tables built at load).
constexpr size_t kBlock = 256;

uint32_t rawTable(uint32_t reg, const uint8_t* p, size_t len) {
  while (len--) reg = kTable.t[(reg ^ *p++) & 0xFF] ^ (reg >> 8);
  return reg;
}

struct ShiftTables {
  uint32_t t[4][256];
  ShiftTables() {
    static const uint8_t zeros[kBlock] = {};
    for (int k = 0; k < 4; k++)
      for (uint32_t b = 0; b < 256; b++) t[k][b] = rawTable(b << (8 * k), zeros, kBlock);
  }
  uint32_t shift(uint32_t reg) const {
    return t[0][reg & 0xFF] ^ t[1][(reg >> 8) & 0xFF] ^ t[2][(reg >> 16) & 0xFF] ^ t[3][reg >> 24];
  }
};
const ShiftTables kShift;

#ifdef MQLAB_X86
// Register `c` continued over p[0, len): three streams while at least 3 * kBlock bytes are left.
__attribute__((target("sse4.2"))) uint64_t rawHardware(uint64_t c, const uint8_t* p, size_t len, size_t* done) {
  size_t off = 0;
  while (len - off >= 3 * kBlock) {
    uint64_t c1 = 0, c2 = 0;
    const uint8_t* a = p + off;
    for (size_t i = 0; i < kBlock; i += 8) {
      uint64_t v0, v1, v2;
      std::memcpy(&v0, a + i, 8);
      std::memcpy(&v1, a + kBlock + i, 8);
      std::memcpy(&v2, a + 2 * kBlock + i, 8);
      c = _mm_crc32_u64(c, v0);
      c1 = _mm_crc32_u64(c1, v1);
      c2 = _mm_crc32_u64(c2, v2);
    }
    c = kShift.shift(kShift.shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(c1)) ^ static_cast<uint32_t>(c2);
    off += 3 * kBlock;
  }
  while (len - off >= 8) {
    uint64_t v;
    std::memcpy(&v, p + off, 8);
    c = _mm_crc32_u64(c, v);
    off += 8;
  }
  *done = off;
  return c;
}

__attribute__((target("sse4.2"))) uint32_t crcHardware(uint32_t crc, const uint8_t* p, size_t len) {
  uint64_t c = ~crc & 0xFFFFFFFFu;
  size_t done;
  c = rawHardware(c, p, len, &done);
  p += done;
  len -= done;
  while (len >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    len -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  if (len >= 4) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    c32 = _mm_crc32_u32(c32, v);
    p += 4;
    len -= 4;
  }
  while (len--) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

__attribute__((target("sse4.2"))) uint32_t frameHardware(uint32_t word0, int64_t ts, const uint8_t* p, size_t len) {
  uint32_t c32 = _mm_crc32_u32(0xFFFFFFFFu, word0);
  uint64_t c = _mm_crc32_u64(c32, static_cast<uint64_t>(ts));
  size_t done;
  c = rawHardware(c, p, len, &done);
  p += done;
  len -= done;
  while (len >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    len -= 8;
  }
  c32 = static_cast<uint32_t>(c);
  while (len--) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

bool detectHardware() { return __builtin_cpu_supports("sse4.2"); }
#else
bool detectHardware() { return false; }
#endif

const bool kHardware = detectHardware();

}  // namespace

uint32_t crc32cFrame(uint32_t word0, int64_t timestamp, const void* payload, size_t len) {
#ifdef MQLAB_X86
  if (kHardware) return frameHardware(word0, timestamp, static_cast<const uint8_t*>(payload), len);
#endif
  uint8_t head[12];
  std::memcpy(head, &word0, 4);
  std::memcpy(head + 4, &timestamp, 8);
  return crcTable(crcTable(0, head, 12), static_cast<const uint8_t*>(payload), len);
}

bool crc32cHardware() { return kHardware; }

uint32_t crc32cPortable(uint32_t crc, const void* data, size_t len) {
  return crcTable(crc, static_cast<const uint8_t*>(data), len);
}

uint32_t crc32c(uint32_t crc, const void* data, size_t len) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
#ifdef MQLAB_X86
  if (kHardware) return crcHardware(crc, p, len);
#endif
  return crcTable(crc, p, len);
}

}  // namespace mqlab
