#pragma once
// Verifying and restoring backups (docs/BACKUP.md). A restore reads the whole file into a staging folder of
// the target $DIVE_HOME, checking every chunk, the manifest and every member; builds the instance's database
// there (initdb + pg_restore on a private port) and its revocation Redis (keys re-set with their expiry); and
// only then moves the instance folder (and the CA, when the home has none) into place and runs the deploy
// pipeline without seeding. A refused file (wrong passphrase, corrupted, truncated, a newer schema) or an
// instance in the way leaves nothing behind: no folder, no cluster, no process.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include "backup/container.hpp"
#include "common/json.hpp"
#include "orchestrator/console.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/layout.hpp"

namespace dive::orch {

// A backup refused: `kind` is one of not_a_backup, unsupported_version, bad_header, wrong_passphrase,
// corrupted, truncated, trailing_data, io, bad_manifest, bad_member, checksum_mismatch, newer_schema,
// in_the_way, no_hub, unreadable; what() says it to the operator.
class RestoreRefused : public std::runtime_error {
 public:
  RestoreRefused(std::string kind, const std::string& msg)
      : std::runtime_error(msg), kind_(std::move(kind)) {}
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
};

struct BackupVerifyReport {
  backup::HeaderInfo header;
  Json manifest;
  uint64_t bytes = 0;    // the file
  uint64_t payload = 0;  // the members' bytes
  uint64_t chunks = 0;
  double seconds = 0;
  Json to_json() const;
};

// Decrypts and checks the whole file (every chunk, the manifest, every member's size and SHA-256, the end)
// and that its schema revision is one this binary knows. Writes nothing. Throws RestoreRefused.
BackupVerifyReport verify_backup(const std::filesystem::path& file, const std::string& passphrase);

struct RestoreOptions {
  std::filesystem::path file;
  std::string passphrase;
  std::optional<Placement> placement;  // --host: new URLs, issuer and certificate (signed by the restored CA)
  std::optional<int> port_shift;       // DIVE_PORT_SHIFT of the target; default: the backup's
  std::filesystem::path dive_exe;
  int pg_jobs = 2;
};

struct RestoreResult {
  int exit_code = 0;  // 0 restored and verified; 1 the deploy of the restored instance failed (rolled back)
  std::string code;
  Json manifest;
  int64_t documents = 0;
  double seconds = 0, unpack_seconds = 0, database_seconds = 0, deploy_seconds = 0;
  std::string failed_step, reason;
  Json to_json() const;
};

// Throws RestoreRefused for a refused file or target (nothing restored); a failure after the instance was put
// in place is rolled back (its processes stopped, its folder removed) and reported in the result.
RestoreResult restore_instance(const Layout& layout, const RestoreOptions& options, const Console& out);

}  // namespace dive::orch
