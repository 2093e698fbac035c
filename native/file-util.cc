#include "file-util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "store-error.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace mqlab {

uint64_t pageSize() {
  static const uint64_t size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return size;
}

int openFile(const std::string& path, int flags) {
  int fd;
  do fd = ::open(path.c_str(), flags | O_CLOEXEC, 0666);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) throwSystemError("cannot open " + path, errno);
  return fd;
}

void closeFile(int fd) {
  if (fd >= 0) ::close(fd);
}

void preallocate(int fd, uint64_t bytes, const std::string& path) {
  int rc;
  do rc = posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  while (rc == EINTR);
  if (rc != 0) throwSystemError("cannot preallocate " + std::to_string(bytes) + " bytes for " + path, rc);
}

uint64_t fileSize(int fd, const std::string& path) {
  struct stat st;
  if (fstat(fd, &st) != 0) throwSystemError("cannot stat " + path, errno);
  return static_cast<uint64_t>(st.st_size);
}

uint8_t* mapShared(int fd, uint64_t bytes, const std::string& path) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) throwSystemError("cannot map " + path, errno);
  return static_cast<uint8_t*>(p);
}

void unmap(uint8_t* p, uint64_t bytes) {
  if (p) munmap(p, bytes);
}

void zeroFill(int fd, uint64_t bytes, const std::string& path) {
  // A read-only zero block in .bss: its pages are the kernel's shared zero page, so the copy source
  // stays in cache. Buffered writes of whole pages skip the page zeroing a write fault does, so
  // preparing a segment is ~1.3x faster (6.18, ext4). The chunk size sets the page-cache folio
  // size: 64 KiB keeps a small `sync` msync cheap, where 1 MiB folios made each one write back
  // up to a whole folio (285 us against 100 us).
  static const uint8_t kZeros[64 << 10] = {};
  uint64_t off = 0;
  while (off < bytes) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(sizeof kZeros, bytes - off));
    ssize_t n = ::pwrite(fd, kZeros, chunk, static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR) continue;
      throwSystemError("cannot fill " + path, errno);
    }
    off += static_cast<uint64_t>(n);
  }
}

void prefaultWrite(uint8_t* p, uint64_t bytes) {
  if (madvise(p, bytes, MADV_POPULATE_WRITE) == 0) return;
  // Older kernels: write each page once. The space is fresh (all zeros), so writing zero is safe.
  const uint64_t page = pageSize();
  for (uint64_t off = 0; off < bytes; off += page) {
    volatile uint8_t* b = p + off;
    *b = *b;
  }
}

void syncRange(uint8_t* base, uint64_t from, uint64_t to, const std::string& path) {
  if (to <= from) return;
  const uint64_t page = pageSize();
  uint64_t start = from & ~(page - 1);
  if (msync(base + start, to - start, MS_SYNC) != 0) throwSystemError("cannot sync " + path, errno);
}

void syncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throwSystemError("cannot open directory " + dir, errno);
  int rc = fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) throwSystemError("cannot sync directory " + dir, err);
}

void renameFile(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) throwSystemError("cannot rename " + from + " to " + to, errno);
}

bool removeFile(const std::string& path) { return ::unlink(path.c_str()) == 0; }

}  // namespace mqlab
