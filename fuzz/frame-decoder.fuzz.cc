// libFuzzer target: the record frame decoder (native/frame.h) over arbitrary segment data.
//
// The input is the data area of a segment. The harness walks it the way recovery and reads do:
// frame::check at each 8-byte-aligned offset, stepping over records and damaged records by their
// declared length, and checks the decoder's own promises: a Record never extends past the data,
// its checksum really matches, padding covers whole 8-byte units inside the data, and a frame
// written with frame::write (or padding written with frame::writePadding) decodes back to itself.
// Built without node: only frame.h and crc32c.cc (see scripts/reliability/fuzz-native.sh).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "crc32c.h"
#include "frame.h"

using namespace mqlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Copy into an 8-aligned buffer, like a mapped segment.
  std::vector<uint64_t> store((size + 7) / 8 + 1);
  uint8_t* d = reinterpret_cast<uint8_t*>(store.data());
  if (size) std::memcpy(d, data, size);

  uint64_t off = 0;
  while (off < size) {
    uint32_t len = 0;
    frame::Check c = frame::check(d + off, size - off, &len);
    if (c == frame::Check::Record) {
      if (frame::frameBytes(len) > size - off) abort();  // decoder let a frame run past the data
      if (frame::checksum(len, frame::load64(d + off + 8), d + off + 16) != frame::load32(d + off + 4)) abort();
      off += frame::frameBytes(len);
    } else if (c == frame::Check::Padding) {
      if (len < 8 || (len & 7) || len > size - off) abort();  // padding must be whole 8-byte units inside the data
      if (frame::load32(d + off + 4) != frame::paddingCheck(frame::load32(d + off))) abort();
      off += len;
    } else if (c == frame::Check::BadCrc) {
      if (frame::frameBytes(len) > size - off) abort();
      off += frame::frameBytes(len);
    } else {
      off += 8;
    }
  }

  // Round trip: the input's tail as a payload, framed and decoded again.
  if (size >= 8) {
    const uint32_t len = static_cast<uint32_t>(size - 8) & frame::kMaxPayload;
    int64_t ts;
    std::memcpy(&ts, data, 8);
    std::vector<uint64_t> out((frame::frameBytes(len) + 7) / 8 + 1);
    uint8_t* o = reinterpret_cast<uint8_t*>(out.data());
    frame::write(o, data + 8, len, ts, frame::checksum(len, ts, data + 8));
    uint32_t got = 0;
    if (frame::check(o, frame::frameBytes(len), &got) != frame::Check::Record || got != len) abort();
    if (frame::load64(o + 8) != ts || std::memcmp(o + 16, data + 8, len) != 0) abort();
    // Padding of the same size decodes as one padding frame covering exactly that space.
    const uint64_t padBytes = frame::frameBytes(len);
    frame::writePadding(o, padBytes);
    uint32_t pad = 0;
    if (frame::check(o, padBytes, &pad) != frame::Check::Padding || pad != padBytes) abort();
  }
  return 0;
}
