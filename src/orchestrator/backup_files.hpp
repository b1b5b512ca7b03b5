#pragma once
// Files of backup and restore: scratch folders that remove themselves, members described from files on disk.
#include <filesystem>
#include <string>
#include <vector>

#include "backup/archive.hpp"

namespace dive::orch {

// A directory (created 0700, or `mode`) removed with its content when the object goes; release() keeps it.
class ScratchDir {
 public:
  explicit ScratchDir(std::filesystem::path path, unsigned mode = 0700);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Removes `path` (file or tree) on destruction unless release() was called.
class RemoveOnFailure {
 public:
  explicit RemoveOnFailure(std::filesystem::path path) : path_(std::move(path)) {}
  ~RemoveOnFailure();
  RemoveOnFailure(const RemoveOnFailure&) = delete;
  RemoveOnFailure& operator=(const RemoveOnFailure&) = delete;
  void release() { path_.clear(); }

 private:
  std::filesystem::path path_;
};

// The member `root/top` (a file) or every regular file below it (a folder), named relative to `root`, sorted,
// with size, SHA-256 and permission bits. Nothing when it does not exist.
std::vector<backup::Member> describe_members(const std::filesystem::path& root, const std::string& top);

// Creates `dir` (and its parents) with `mode` when it does not exist; an existing folder is left as it is
// (never chmod an operator's folder, /tmp say, because a file goes into it).
void create_missing_dir(const std::filesystem::path& dir, unsigned mode);

std::string sha256_file(const std::filesystem::path& p);  // hex
int64_t wall_ms();                                        // ms since the epoch

}  // namespace dive::orch
