#include "orchestrator/backup_files.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>

#include "common/fs.hpp"

namespace dive::orch {

ScratchDir::ScratchDir(std::filesystem::path path, unsigned mode) : path_(std::move(path)) {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // a leftover of a killed run of ours (the name has our pid)
  ensure_dir(path_, mode);
  std::filesystem::permissions(path_, static_cast<std::filesystem::perms>(mode),
                               std::filesystem::perm_options::replace);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

RemoveOnFailure::~RemoveOnFailure() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void create_missing_dir(const std::filesystem::path& dir, unsigned mode) {
  if (!std::filesystem::exists(dir)) ensure_dir(dir, mode);
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string sha256_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  backup::Sha256 sha;
  std::string buf(1 << 18, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    sha.update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
  }
  return sha.hex();
}

std::vector<backup::Member> describe_members(const std::filesystem::path& root, const std::string& top) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  const fs::path start = root / top;
  if (fs::is_regular_file(start)) {
    files.push_back(start);
  } else if (fs::is_directory(start)) {
    for (const auto& e : fs::recursive_directory_iterator(start))
      if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<backup::Member> out;
  for (const auto& f : files) {
    backup::Member m;
    m.name = fs::relative(f, root).generic_string();
    m.size = fs::file_size(f);
    m.sha256 = sha256_file(f);
    m.mode = static_cast<unsigned>(fs::status(f).permissions()) & 0777;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace dive::orch
