// CRC32C (Castagnoli), the checksum in every record frame. Uses the SSE4.2 crc32 instruction when
// the CPU reports it (checked once at run time), else a table.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mqlab {

// Continues a CRC: pass 0 to start; the result of one call can be passed as `crc` to the next.
uint32_t crc32c(uint32_t crc, const void* data, size_t len);
bool crc32cHardware();
// The table implementation alone (tests compare it with the hardware one).
uint32_t crc32cPortable(uint32_t crc, const void* data, size_t len);

// CRC32C of the 12 bytes word0 (little-endian u32) + timestamp (little-endian i64) followed by the
// payload: the checksum stored in a record frame (see frame.h). One pass, no temporary buffer.
uint32_t crc32cFrame(uint32_t word0, int64_t timestamp, const void* payload, size_t len);

}  // namespace mqlab
