#pragma once
// Backups of a live instance (docs/BACKUP.md): one encrypted file (backup/container.hpp) holding a consistent
// snapshot taken while the instance serves — its database (pg_dump of one exported snapshot), the revocations
// that live only in Redis (with their expiry), its settings, secrets, certificate and federation files, and
// the home's CA — with a manifest (instance, role, versions, schema revision, time, counts, every member's
// size and SHA-256). `backup_instance` is what `./dive hub backup` / `spoke backup` run, and what an upgrade
// calls.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "backup/container.hpp"
#include "common/json.hpp"
#include "orchestrator/layout.hpp"

namespace dive::orch {

struct BackupOptions {
  std::filesystem::path out;  // empty: $DIVE_HOME/backups/<code>-<UTC time>.divebak
  std::string passphrase;     // required; never written anywhere, never given to a child process
  backup::KdfParams kdf;      // scrypt N=2^17 r=8 p=1
  uint32_t chunk_size = backup::kDefaultChunkSize;
  int pg_jobs = 2;         // pg_dump -j
  int pg_compression = 1;  // pg_dump -Z (the documents are ciphertext: more compresses little)
  // The instance's deployment lock (the orchestration database's) is held for the backup, so no deploy or
  // migration runs under it. False when the caller already holds it (an upgrade).
  bool take_deploy_lock = true;
  std::function<void(const std::string&)> progress;  // one line per step (the CLI prints them on stderr)
};

struct BackupResult {
  std::filesystem::path file;
  uint64_t bytes = 0;
  int64_t documents = 0;
  double seconds = 0;
  std::string sha256;    // of the whole file
  Json manifest;         // as stored in the file
  Json to_json() const;  // {file, bytes, documents, durationSeconds, sha256, instance, schemaRevision, ...}
};

// Throws std::runtime_error naming what failed; a failed backup leaves no file at `out` and no staging files.
BackupResult backup_instance(const Layout& layout, const std::string& code, const BackupOptions& options);

// The operator's passphrase: the first line of `file` when given, else $DIVE_BACKUP_PASSPHRASE, which is then
// removed from this process's environment (so no child process inherits it). Throws std::invalid_argument
// when there is none or it is shorter than 12 characters.
std::string read_backup_passphrase(const std::string& file);

// The highest instance schema revision this binary knows (its last embedded migration).
int known_schema_revision();

}  // namespace dive::orch
