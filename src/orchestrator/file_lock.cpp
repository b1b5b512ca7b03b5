#include "orchestrator/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace dive::orch {

std::optional<FileLock> FileLock::try_acquire(const std::filesystem::path& file, int* holder_pid) {
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return std::nullopt;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (holder_pid) {
      char buf[32] = {};
      ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      *holder_pid = n > 0 ? std::atoi(buf) : -1;
    }
    ::close(fd);
    return std::nullopt;
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return FileLock(fd);
}

FileLock FileLock::acquire(const std::filesystem::path& file, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int holder = -1;
  while (true) {
    if (auto l = try_acquire(file, &holder)) return std::move(*l);
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("timed out waiting for " + file.string() + " (held by pid " +
                               std::to_string(holder) + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void FileLock::release() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
  fd_ = -1;
}

}  // namespace dive::orch
