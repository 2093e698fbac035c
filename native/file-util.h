// Small wrappers over the system calls the store uses; each throws StoreError with the path in the
// message. Files are created with mode 0666 & ~umask (open(2) applies the umask).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mqlab {

int openFile(const std::string& path, int flags);
void closeFile(int fd);
// Reserves blocks so writes through a mapping can never hit ENOSPC (which would be a SIGBUS).
void preallocate(int fd, uint64_t bytes, const std::string& path);
uint64_t fileSize(int fd, const std::string& path);
uint8_t* mapShared(int fd, uint64_t bytes, const std::string& path);
void unmap(uint8_t* p, uint64_t bytes);
// Makes every page of the mapping present and writable now, so the hot path takes no page faults.
// Writes zeros over [0, bytes) of a preallocated file, so its page-cache pages exist before mapping.
void zeroFill(int fd, uint64_t bytes, const std::string& path);
void prefaultWrite(uint8_t* p, uint64_t bytes);
// msync(MS_SYNC) of [p + from, p + to), widened to whole pages.
void syncRange(uint8_t* base, uint64_t from, uint64_t to, const std::string& path);
void syncDirectory(const std::string& dir);
void renameFile(const std::string& from, const std::string& to);
bool removeFile(const std::string& path);
uint64_t pageSize();

}  // namespace mqlab
