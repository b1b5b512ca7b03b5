#pragma once
// Small file-system helpers with explicit modes; secrets are written atomically with 0600.
#include <filesystem>
#include <optional>
#include <string>

namespace dive {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p);                     // throws std::runtime_error naming the path
std::optional<std::string> try_read_file(const fs::path& p);  // nullopt when missing or unreadable
// Writes to a temporary sibling, fsyncs, then renames over p; the file has `mode` from its creation.
void write_file_atomic(const fs::path& p, const std::string& content, unsigned mode = 0644);
void ensure_dir(const fs::path& p, unsigned mode = 0755);

// A temporary directory removed (recursively) on destruction. For tests and scratch work.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "dive");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace dive
