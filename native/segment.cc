#include "segment.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "crc32c.h"
#include "file-util.h"
#include "frame.h"
#include "store-error.h"

namespace mqlab {

namespace {
struct HeaderLayout {
  uint64_t magic;
  uint64_t base;
  uint64_t fileBytes;
  uint64_t sealedBytes;
  int64_t maxTimestamp;
  uint32_t flags;
  uint32_t crc;
};
static_assert(sizeof(HeaderLayout) == 48, "segment header layout");
}  // namespace

uint64_t Segment::headerBytes() { return frame::kSegmentHeaderBytes; }

std::string Segment::fileName(uint64_t base) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020" PRIu64 ".log", base);
  return buf;
}

std::string Segment::name() const { return fileName(base_); }

Segment::Segment(std::string path, int fd, uint8_t* map, uint64_t fileBytes)
    : path_(std::move(path)), fd_(fd), map_(map), fileBytes_(fileBytes) {}

Segment::~Segment() {
  unmap(map_, fileBytes_);
  closeFile(fd_);
}

std::unique_ptr<Segment> Segment::createSpare(const std::string& path, uint64_t fileBytes) {
  int fd = openFile(path, O_RDWR | O_CREAT | O_TRUNC);
  try {
    preallocate(fd, fileBytes, path);
    zeroFill(fd, fileBytes, path);
    uint8_t* map = mapShared(fd, fileBytes, path);
    prefaultWrite(map, fileBytes);
    return std::unique_ptr<Segment>(new Segment(path, fd, map, fileBytes));
  } catch (...) {
    closeFile(fd);
    removeFile(path);
    throw;
  }
}

std::unique_ptr<Segment> Segment::openExisting(const std::string& path, uint64_t expectedBase) {
  int fd = openFile(path, O_RDWR);
  uint8_t* map = nullptr;
  uint64_t size = 0;
  try {
    size = fileSize(fd, path);
    if (size < headerBytes() + frame::kHeaderBytes + frame::kEndBytes)
      throw StoreError("ERR_CORRUPT", "segment " + path + " is too short (" + std::to_string(size) + " bytes)",
                       static_cast<double>(expectedBase));
    map = mapShared(fd, size, path);
    HeaderLayout h;
    std::memcpy(&h, map, sizeof h);
    if (h.magic != frame::kSegmentMagic)
      throw StoreError("ERR_CORRUPT", "segment " + path + " has no segment header", static_cast<double>(expectedBase));
    if (h.base != expectedBase)
      throw StoreError("ERR_CORRUPT",
                       "segment " + path + " header says base " + std::to_string(h.base) + ", name says " +
                           std::to_string(expectedBase),
                       static_cast<double>(expectedBase));
    std::unique_ptr<Segment> s(new Segment(path, fd, map, size));
    s->base_ = expectedBase;
    return s;
  } catch (...) {
    unmap(map, size);
    closeFile(fd);
    throw;
  }
}

void Segment::writeHeader(uint64_t sealedBytes, int64_t maxTs, uint32_t flags) {
  HeaderLayout h{};
  h.magic = frame::kSegmentMagic;
  h.base = base_;
  h.fileBytes = fileBytes_;
  h.sealedBytes = sealedBytes;
  h.maxTimestamp = maxTs;
  h.flags = flags;
  h.crc = crc32c(0, &h, offsetof(HeaderLayout, crc));
  std::memcpy(map_, &h, sizeof h);
}

void Segment::activate(uint64_t base, const std::string& finalPath) {
  base_ = base;
  writeHeader(0, INT64_MIN, 0);
  renameFile(path_, finalPath);
  path_ = finalPath;
}

void Segment::seal(uint64_t dataBytes, int64_t maxTs) {
  uint8_t* p = data() + dataBytes;
  uint32_t check = frame::kEndCheck;
  std::memcpy(p + 4, &check, 4);
  __atomic_store_n(reinterpret_cast<uint32_t*>(p), frame::kEndWord, __ATOMIC_RELEASE);
  writeHeader(dataBytes, maxTs, frame::kSealed);
}

bool Segment::sealedInHeader(uint64_t* dataBytes, int64_t* maxTs) const {
  HeaderLayout h;
  std::memcpy(&h, map_, sizeof h);
  if (!(h.flags & frame::kSealed) || h.crc != crc32c(0, &h, offsetof(HeaderLayout, crc))) return false;
  *dataBytes = h.sealedBytes;
  *maxTs = h.maxTimestamp;
  return true;
}

void Segment::markDeleted() {
  if (!deleted_) removeFile(path_);
  deleted_ = true;
}

void Segment::releasePages() const { madvise(map_, fileBytes_, MADV_DONTNEED); }

void Segment::sync(uint64_t from, uint64_t to) const {
  syncRange(map_, headerBytes() + from, headerBytes() + to, path_);
}

}  // namespace mqlab
