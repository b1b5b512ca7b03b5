#pragma once
// The payload inside a backup container (docs/BACKUP.md): the manifest first, then every member it lists, in
// its order, each as (name, size, bytes), then an end mark. The manifest states each member's size and
// SHA-256; the reader checks both for every member and that nothing is missing or added.
//
// Not thread-safe: one object per stream, used by one thread.
#include <cstdint>
#include <istream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "backup/container.hpp"
#include "common/json.hpp"
#include "common/ossl.hpp"

namespace dive::backup {

inline constexpr const char* kManifestName = "manifest.json";

// SHA-256 over a stream of bytes.
class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  std::string hex();  // finishes; the object is spent afterwards

 private:
  ossl::MdCtx ctx_;
};

struct Member {
  std::string name;  // a relative path: "instance/secrets.json", "db/toc.dat"
  uint64_t size = 0;
  std::string sha256;    // hex
  unsigned mode = 0644;  // the file's permission bits when restored ("mode" in the manifest, optional)
};

enum class ArchiveErrorKind {
  BadManifest,       // missing, not JSON, or without a valid member list
  BadMember,         // a member the manifest does not list (or in another order), an unsafe name
  ChecksumMismatch,  // a member's bytes differ from the manifest's SHA-256
};

using ArchiveError = KindError<ArchiveErrorKind>;

// A member name that is safe to create below a directory: relative, no "." or ".." component, no empty
// component, no backslash or control character, at most 1,024 bytes.
bool safe_member_name(std::string_view name);

struct Manifest {
  Json json;  // the whole manifest as written
  std::vector<Member> members;
  // Throws ArchiveError(BadManifest) unless `json` has "members": [{name, size, sha256}] with safe, unique
  // names.
  static Manifest from_json(Json json);
};

class ArchiveWriter {
 public:
  // Writes the manifest (which must list every member with its size and SHA-256) as the first record.
  ArchiveWriter(ContainerWriter& out, const Manifest& manifest);
  // Streams the next member of the manifest from `in`. Throws std::runtime_error when `name` is not the next
  // member, or its bytes no longer have the manifest's size or SHA-256 (the source changed meanwhile).
  void add(const std::string& name, std::istream& in);
  // The end mark, after every member.
  void finish();

 private:
  void record_header(const std::string& name, uint64_t size);
  ContainerWriter& out_;
  const Manifest& manifest_;
  size_t next_ = 0;
};

// What a reader does with a backup's content, in order: manifest(), then for each member begin(), data()...,
// end() (called only once its size and SHA-256 matched). Any of them may throw to stop the reading.
class ArchiveSink {
 public:
  virtual ~ArchiveSink() = default;
  virtual void manifest(const Manifest& m) = 0;
  virtual void begin(const Member& m) = 0;
  virtual void data(std::string_view bytes) = 0;
  virtual void end(const Member& m) = 0;
};

// Reads a whole payload into `sink`, checking the manifest, every member's name, order, size and SHA-256, the
// end mark and that nothing follows it. Throws ArchiveError or ContainerError.
void read_archive(ContainerReader& in, ArchiveSink& sink);

}  // namespace dive::backup
