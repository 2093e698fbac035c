// A file of fixed-width entries (offset/time indexes, RocketMQ ConsumeQueue entries), mapped and
// grown in steps. Layout: a 64-byte header, then entries back to back.
//
//   +-----------------+----------------+----------+-----------+-----------+-----+
//   | magic "MQLIDX01"| entryBytes u32 | pad u32  | count u64 | entry 0   | ... |
//   +-----------------+----------------+----------+-----------+-----------+-----+
//
// `count` is stored after the entries it covers are written, so a process crash never exposes a
// half-written entry. One IndexFile per path (flock); it belongs to the thread that opened it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace mqlab {

class IndexFile {
 public:
  static std::unique_ptr<IndexFile> open(const std::string& path, uint32_t entryBytes, uint64_t growBytes);
  ~IndexFile();
  IndexFile(const IndexFile&) = delete;
  IndexFile& operator=(const IndexFile&) = delete;

  uint64_t count() const;
  uint32_t entryBytes() const { return entryBytes_; }
  // `bytes` must be a multiple of entryBytes (checked by the caller); returns the first index.
  uint64_t append(const uint8_t* data, uint64_t bytes);
  const uint8_t* entry(uint64_t index) const;
  void write(uint64_t index, const uint8_t* data);
  void truncate(uint64_t count);
  void flushSync();

 private:
  IndexFile(std::string path, int fd, uint32_t entryBytes, uint64_t growBytes);
  void ensureCapacity(uint64_t entries);
  void setCount(uint64_t count);

  std::string path_;
  int fd_;
  uint32_t entryBytes_;
  uint64_t growBytes_;
  uint8_t* map_ = nullptr;
  uint64_t mapBytes_ = 0;
};

}  // namespace mqlab
