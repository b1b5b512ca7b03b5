#pragma once
// An exclusive flock on a file, held for the object's life; the file records the holder's pid.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace dive::orch {

class FileLock {
 public:
  // Non-blocking: nullopt when another process holds it (then `holder_pid` tells which, if recorded).
  static std::optional<FileLock> try_acquire(const std::filesystem::path& file, int* holder_pid = nullptr);
  // Blocking, up to `timeout`; throws std::runtime_error naming the holder when it cannot be had.
  static FileLock acquire(const std::filesystem::path& file, std::chrono::milliseconds timeout);
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&& o) noexcept {
    if (this != &o) {
      release();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  FileLock(const FileLock&) = delete;
  ~FileLock() { release(); }

 private:
  void release();
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace dive::orch
