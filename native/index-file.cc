#include "index-file.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstring>

#include "file-util.h"
#include "store-error.h"

namespace mqlab {

namespace {
constexpr uint64_t kMagic = 0x3130584449514C4DULL;  // "MQLIDX01"
constexpr uint64_t kHeaderBytes = 64;
constexpr uint64_t kCountOffset = 16;
}  // namespace

IndexFile::IndexFile(std::string path, int fd, uint32_t entryBytes, uint64_t growBytes)
    : path_(std::move(path)), fd_(fd), entryBytes_(entryBytes), growBytes_(growBytes) {}

IndexFile::~IndexFile() {
  unmap(map_, mapBytes_);
  closeFile(fd_);
}

std::unique_ptr<IndexFile> IndexFile::open(const std::string& path, uint32_t entryBytes, uint64_t growBytes) {
  int fd = openFile(path, O_RDWR | O_CREAT);
  std::unique_ptr<IndexFile> f(new IndexFile(path, fd, entryBytes, growBytes));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) throw StoreError("ERR_LOCKED", "index file " + path + " is already open");
    throwSystemError("cannot lock " + path, errno);
  }
  uint64_t size = fileSize(fd, path);
  if (size == 0) {
    size = kHeaderBytes + growBytes;
    preallocate(fd, size, path);
    f->map_ = mapShared(fd, size, path);
    f->mapBytes_ = size;
    std::memcpy(f->map_, &kMagic, 8);
    std::memcpy(f->map_ + 8, &entryBytes, 4);
    f->setCount(0);
    return f;
  }
  if (size < kHeaderBytes) throw StoreError("ERR_CORRUPT", "index file " + path + " is too short to have a header");
  f->map_ = mapShared(fd, size, path);
  f->mapBytes_ = size;
  uint64_t magic;
  uint32_t stored;
  std::memcpy(&magic, f->map_, 8);
  std::memcpy(&stored, f->map_ + 8, 4);
  if (magic != kMagic) throw StoreError("ERR_CORRUPT", "file " + path + " is not an mqlab index file");
  if (stored != entryBytes)
    throw StoreError("ERR_INVALID_ARG", "options.entryBytes is " + std::to_string(entryBytes) + " but index file " + path +
                                            " has " + std::to_string(stored) + "-byte entries");
  if (f->count() > (size - kHeaderBytes) / entryBytes)
    throw StoreError("ERR_CORRUPT", "index file " + path + " claims more entries than it holds");
  return f;
}

uint64_t IndexFile::count() const {
  uint64_t c;
  std::memcpy(&c, map_ + kCountOffset, 8);
  return c;
}

void IndexFile::setCount(uint64_t c) { __atomic_store_n(reinterpret_cast<uint64_t*>(map_ + kCountOffset), c, __ATOMIC_RELEASE); }

void IndexFile::ensureCapacity(uint64_t entries) {
  const uint64_t need = kHeaderBytes + entries * entryBytes_;
  if (need <= mapBytes_) return;
  uint64_t size = mapBytes_;
  while (size < need) size += growBytes_;
  preallocate(fd_, size, path_);
  uint8_t* p = mapShared(fd_, size, path_);
  unmap(map_, mapBytes_);
  map_ = p;
  mapBytes_ = size;
}

uint64_t IndexFile::append(const uint8_t* data, uint64_t bytes) {
  const uint64_t first = count();
  const uint64_t n = bytes / entryBytes_;
  ensureCapacity(first + n);
  std::memcpy(map_ + kHeaderBytes + first * entryBytes_, data, bytes);
  setCount(first + n);
  return first;
}

const uint8_t* IndexFile::entry(uint64_t index) const { return map_ + kHeaderBytes + index * entryBytes_; }

void IndexFile::write(uint64_t index, const uint8_t* data) {
  std::memcpy(map_ + kHeaderBytes + index * entryBytes_, data, entryBytes_);
}

void IndexFile::truncate(uint64_t c) {
  const uint64_t old = count();
  if (c >= old) return;
  setCount(c);
  std::memset(map_ + kHeaderBytes + c * entryBytes_, 0, (old - c) * entryBytes_);
}

void IndexFile::flushSync() {
  syncRange(map_, 0, kHeaderBytes + count() * entryBytes_, path_);
}

}  // namespace mqlab
