// libFuzzer target: the recovery scanner of the commit log (LogCore::open in native/log.cc:
// scanSealed, recoverTail, the checkpoint) over arbitrary segment contents, then reads of
// everything it kept (LogCore::collect and locate).
//
// The input is split into: a mode byte, then up to two segment data areas and a checkpoint. Each
// segment gets a valid 64-byte header (so the scanner, not the header check, sees the bytes; mode
// bit 0 makes the first segment's header claim it is sealed), is written to a fresh directory on
// /dev/shm, and the log is opened with LogCore::acquire. Open may refuse with a StoreError (that is
// a typed error, fine); a crash, a sanitizer report, or a read that returns bytes past the end is a
// finding. Built without node (see scripts/reliability/fuzz-native.sh).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "crc32c.h"
#include "frame.h"
#include "log.h"
#include "store-error.h"

using namespace mqlab;

namespace {

// Mirrors the header in native/segment.cc (drawn in native/frame.h).
struct Header {
  uint64_t magic, base, fileBytes, sealedBytes;
  int64_t maxTimestamp;
  uint32_t flags, crc;
};
static_assert(sizeof(Header) == 48, "header");

std::string gRoot;
unsigned gRun = 0;

void writeFile(const std::string& path, const void* p, size_t n) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) abort();
  if (n && ::write(fd, p, n) != static_cast<ssize_t>(n)) abort();
  ::close(fd);
}

void writeSegment(const std::string& dir, uint64_t base, const uint8_t* data, size_t n, bool sealed, uint64_t sealedBytes) {
  // At least the minimum a segment must hold; the rest of the file is zeros like fresh space.
  size_t dataBytes = n < 64 ? 64 : n;
  std::vector<uint8_t> file(64 + dataBytes, 0);
  Header h{};
  h.magic = frame::kSegmentMagic;
  h.base = base;
  h.fileBytes = file.size();
  h.sealedBytes = sealed ? sealedBytes : 0;
  h.maxTimestamp = 0;
  h.flags = sealed ? frame::kSealed : 0;
  h.crc = crc32c(0, &h, offsetof(Header, crc));
  std::memcpy(file.data(), &h, sizeof h);
  if (n) std::memcpy(file.data() + 64, data, n);
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.log", static_cast<unsigned long long>(base));
  writeFile(dir + "/" + name, file.data(), file.size());
}

// The log directory holds only plain files (segments, spare, lock, checkpoint).
void removeTree(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) abort();
  while (struct dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    ::unlink((dir + "/" + e->d_name).c_str());
  }
  closedir(d);
  if (rmdir(dir.c_str()) != 0) abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/dev/shm/mqlab-fuzz-XXXXXX";
  const char* root = mkdtemp(tmpl);
  if (!root) {
    char alt[] = "/tmp/mqlab-fuzz-XXXXXX";
    root = mkdtemp(alt);
    if (!root) abort();
    gRoot = root;
  } else {
    gRoot = root;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  data++;
  size--;
  const std::string dir = gRoot + "/" + std::to_string(gRun++);
  if (mkdir(dir.c_str(), 0700) != 0) abort();

  // Mode bit 1: two segments, split at a point the next two bytes choose (8-aligned, as bases are).
  if ((mode & 2) && size >= 2) {
    size_t split = ((static_cast<size_t>(data[0]) | static_cast<size_t>(data[1]) << 8) % (size - 1)) & ~size_t(7);
    data += 2;
    size -= 2;
    if (split > size) split = size & ~size_t(7);
    size_t firstData = split + frame::kEndBytes + 64;  // room for the END marker the scanner expects
    std::vector<uint8_t> first(firstData, 0);
    std::memcpy(first.data(), data, split);
    writeSegment(dir, 0, first.data(), first.size(), mode & 1, split);
    writeSegment(dir, split, data + split, size - split, false, 0);
  } else {
    writeSegment(dir, 0, data, size, mode & 1, size);
  }
  // Mode bit 2: a checkpoint file taken from the input's last 40 bytes (magic and crc made valid
  // when bit 3 is set, so the scanner starts from a fuzzed offset).
  if ((mode & 4) && size >= 40) {
    uint8_t ck[40];
    std::memcpy(ck, data + size - 40, 40);
    if (mode & 8) {
      const uint64_t magic = 0x544E504B43514D51ULL;
      std::memcpy(ck, &magic, 8);
      uint32_t crc = crc32c(0, ck, 32);
      std::memcpy(ck + 32, &crc, 4);
    }
    writeFile(dir + "/checkpoint", ck, sizeof ck);
  }

  LogConfig cfg;
  cfg.segmentBytes = 4096;
  cfg.maxRecordBytes = 1024;
  try {
    auto log = LogCore::acquire(dir, cfg);
    const uint64_t start = log->start();
    const uint64_t end = log->end();
    if (start > end) abort();
    // Read everything kept, batch by batch; a batch that cannot start is a typed error.
    uint64_t pos = start;
    while (pos < end) {
      std::vector<ReadSpan> spans;
      uint64_t next;
      try {
        next = log->collect(pos, 1 << 16, 1 << 20, spans);
      } catch (const StoreError&) {
        break;  // ERR_CORRUPT / ERR_OUT_OF_RANGE at a damaged frame kept by recovery
      }
      if (next <= pos || next > end) abort();
      for (auto& s : spans) {
        volatile uint8_t sink = 0;
        for (uint64_t i = 0; i < s.bytes; i++) sink ^= s.segment->data()[s.offset + i];
        (void)sink;
      }
      pos = next;
    }
    // And every reported corrupt position fails its read with a typed error.
    for (const auto& c : log->recovery().corrupt) {
      uint64_t off, nx;
      uint32_t len;
      int64_t ts;
      try {
        log->locate(c.position, &off, &len, &ts, &nx);
      } catch (const StoreError&) {
      }
    }
    // Appending after recovery works.
    const uint8_t payload[5] = {1, 2, 3, 4, 5};
    try {
      log->append(payload, sizeof payload, 1);
    } catch (const StoreError&) {
    }
  } catch (const StoreError&) {
  }
  removeTree(dir);
  return 0;
}
