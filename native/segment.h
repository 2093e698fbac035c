// One segment file of a log: preallocated, mapped read/write for its whole life, unmapped only
// when the last reference (the log's list or a reader holding a shared_ptr) goes away.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace mqlab {

class Segment {
 public:
  // A fresh spare file (`path`), preallocated and prefaulted; not yet part of the log.
  static std::unique_ptr<Segment> createSpare(const std::string& path, uint64_t fileBytes);
  // An existing segment file; checks the header magic and that the base matches the name.
  static std::unique_ptr<Segment> openExisting(const std::string& path, uint64_t expectedBase);
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // Turns a spare into the segment starting at `base`: writes the header, renames the file.
  void activate(uint64_t base, const std::string& finalPath);
  // Writes the END marker at data offset `dataBytes` and records it in the header.
  void seal(uint64_t dataBytes, int64_t maxTimestamp);
  bool sealedInHeader(uint64_t* dataBytes, int64_t* maxTimestamp) const;
  void markDeleted();

  uint64_t base() const { return base_; }
  uint8_t* data() const { return map_ + headerBytes(); }
  uint64_t dataCapacity() const { return fileBytes_ - headerBytes(); }
  uint64_t fileBytes() const { return fileBytes_; }
  const std::string& path() const { return path_; }
  std::string name() const;
  // msync of data offsets [from, to).
  void sync(uint64_t from, uint64_t to) const;
  // Drops this process's page-table entries for the segment (the pages stay in the page cache and
  // fault back in on the next read), so old segments do not count in RSS.
  void releasePages() const;
  static uint64_t headerBytes();
  static std::string fileName(uint64_t base);

  std::atomic<int64_t> maxTimestamp{INT64_MIN};

 private:
  Segment(std::string path, int fd, uint8_t* map, uint64_t fileBytes);
  void writeHeader(uint64_t sealedBytes, int64_t maxTs, uint32_t flags);

  std::string path_;
  int fd_;
  uint8_t* map_;
  uint64_t fileBytes_;
  uint64_t base_ = 0;
  bool deleted_ = false;
};

}  // namespace mqlab
