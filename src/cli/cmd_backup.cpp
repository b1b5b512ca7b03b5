// ./dive hub backup [--out FILE] [--passphrase-file FILE] [--json]
// ./dive spoke backup <CODE> [--out FILE] [--passphrase-file FILE] [--json]
// ./dive backup verify FILE [--passphrase-file FILE] [--json]
// ./dive restore FILE [--host HOST] [--passphrase-file FILE] [--json]
// (docs/BACKUP.md)
#include <cstdio>
#include <memory>

#include "cli/context.hpp"
#include "common/strings.hpp"
#include "orchestrator/backup.hpp"
#include "orchestrator/ports.hpp"
#include "orchestrator/restore.hpp"

namespace dive::cli {

namespace {

struct BackupArgs {
  bool hub = true;
  std::string code, out, passphrase_file, file, host;
  bool json = false;
  std::string resolved() const { return hub ? std::string(orch::kHubCode) : parse_spoke_code(code); }
};

std::string passphrase_of(const BackupArgs& a) {
  try {
    return orch::read_backup_passphrase(a.passphrase_file);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

void add_passphrase_option(CLI::App* sub, BackupArgs* a) {
  sub->add_option(
      "--passphrase-file", a->passphrase_file,
      "File whose first line is the backup passphrase (else DIVE_BACKUP_PASSPHRASE); never stored "
      "beside the backup");
}

void run_backup(const BackupArgs& a) {
  orch::BackupOptions o;
  o.out = a.out;
  o.passphrase = passphrase_of(a);
  o.progress = [](const std::string& line) { std::fprintf(stderr, "  %s\n", line.c_str()); };
  const auto r = orch::backup_instance(ctx().layout, a.resolved(), o);
  if (a.json) {
    std::printf("%s\n", r.to_json().dump(2).c_str());
    return;
  }
  ctx().out.ok("backup of " + a.resolved() + ": " + r.file.string() + " (" + format_bytes(r.bytes) + ", " +
               std::to_string(r.documents) + " documents, " +
               format_duration_ms(static_cast<int64_t>(r.seconds * 1000)) + ")");
  ctx().out.info("sha256 " + r.sha256);
  ctx().out.info("keep the passphrase apart from the file; check it with ./dive backup verify " +
                 r.file.string());
}

void print_verify(const orch::BackupVerifyReport& r, const std::string& file) {
  const Json& m = r.manifest;
  const Json counts = m.value("counts", Json::object());
  ctx().out.ok("backup of " + m.value("instance", "?") + " (" + m.value("role", "?") + "), taken " +
               m.value("created_at", "?") + " by dive " +
               m.value("/dive/version"_json_pointer, std::string("?")) + " (" +
               m.value("/dive/revision"_json_pointer, std::string("?")) + ")");
  ctx().out.info("schema revision " + std::to_string(m.value("schema_revision", 0)) +
                 " (this dive knows up to " + std::to_string(orch::known_schema_revision()) + ")");
  ctx().out.info(file + ": " + format_bytes(r.bytes) + ", format " + std::to_string(r.header.version) + ", " +
                 std::to_string(r.chunks) + " AES-256-GCM chunks of " + format_bytes(r.header.chunk_size) +
                 ", " + r.header.describe_kdf());
  ctx().out.info("documents " + std::to_string(counts.value("resources", 0)) + ", users " +
                 std::to_string(counts.value("idp_users", 0)) + ", KAS keys " +
                 std::to_string(counts.value("kas_keys", 0)) + ", signing keys " +
                 std::to_string(counts.value("idp_signing_keys", 0)) + ", registered spokes " +
                 std::to_string(counts.value("federation_spokes", 0)) + ", revocations " +
                 std::to_string(counts.value("/revocations/tokens"_json_pointer, 0)) + " tokens / " +
                 std::to_string(counts.value("/revocations/users"_json_pointer, 0)) + " users");
  for (const auto& mem : m["members"])
    std::printf("    %-48s %10s  %s\n", mem["name"].get<std::string>().c_str(),
                format_bytes(mem["size"].get<uint64_t>()).c_str(),
                mem["sha256"].get<std::string>().substr(0, 16).c_str());
  ctx().out.ok("verified: every chunk, the manifest and " + std::to_string(m["members"].size()) +
               " members (size and SHA-256) in " +
               format_duration_ms(static_cast<int64_t>(r.seconds * 1000)) + "; nothing was written");
}

// A refused file: the reason, exit 1 (and with --json the refusal as JSON).
void report_refusal(const orch::RestoreRefused& e, bool json) {
  if (json)
    std::printf("%s\n", Json{{"ok", false}, {"refused", e.kind()}, {"error", e.what()}}.dump(2).c_str());
  ctx().out.fail(std::string("refused (") + e.kind() + "): " + e.what());
  ctx().exit_code = kFailed;
}

// ./dive backup verify: decrypts and checks FILE, writing nothing.
void run_backup_verify(const BackupArgs& a) {
  try {
    const auto r = orch::verify_backup(a.file, passphrase_of(a));
    if (a.json)
      std::printf("%s\n", r.to_json().dump(2).c_str());
    else
      print_verify(r, a.file);
  } catch (const orch::RestoreRefused& e) {
    report_refusal(e, a.json);
  }
}

// The restore's options from the command line: FILE, passphrase, --host and DIVE_PORT_SHIFT.
orch::RestoreOptions restore_options_of(const BackupArgs& a) {
  orch::RestoreOptions o;
  o.file = a.file;
  o.passphrase = passphrase_of(a);
  o.dive_exe = ctx().exe;
  if (!a.host.empty()) {
    try {
      o.placement = orch::make_placement(a.host, "");
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  if (const char* e = std::getenv("DIVE_PORT_SHIFT"); e && *e) {
    try {
      o.port_shift = orch::port_shift_from_env();
    } catch (const std::invalid_argument& ex) {
      throw UsageError(ex.what());
    }
  }
  return o;
}

// ./dive restore: verified first, then put in place and deployed.
void run_restore(const BackupArgs& a) {
  const orch::RestoreOptions o = restore_options_of(a);
  const orch::Console out("", a.json);
  try {
    const auto r = orch::restore_instance(ctx().layout, o, out);
    if (a.json) std::printf("%s\n", r.to_json().dump(2).c_str());
    if (r.exit_code != 0) {
      ctx().exit_code = kFailed;
      return;
    }
    out.ok(r.code + " restored (" + std::to_string(r.documents) + " documents) and verified in " +
           format_duration_ms(static_cast<int64_t>(r.seconds * 1000)));
  } catch (const orch::RestoreRefused& e) {
    report_refusal(e, a.json);
  }
}

void add_family_backup(CLI::App& family, bool hub) {
  static std::vector<std::unique_ptr<BackupArgs>> storage;
  storage.push_back(std::make_unique<BackupArgs>());
  BackupArgs* a = storage.back().get();
  a->hub = hub;
  auto* b = family.add_subcommand(
      "backup",
      "Encrypted, consistent backup of the running instance (database, revocations, settings, "
      "secrets, certificates, CA)");
  if (!hub) b->add_option("CODE", a->code, "Spoke instance code, e.g. FRA")->required();
  b->add_option("--out", a->out,
                "Backup file (default $DIVE_HOME/backups/<code>-<UTC time>.divebak, mode 600)");
  add_passphrase_option(b, a);
  b->add_flag("--json", a->json, "Summary as JSON (file, bytes, documents, duration, checksum)");
  b->callback([a] { run_backup(*a); });
}

}  // namespace

void add_backup_commands(CLI::App& app) {
  add_family_backup(*app.get_subcommand("hub"), true);
  add_family_backup(*app.get_subcommand("spoke"), false);

  static BackupArgs verify_args, restore_args;
  auto* backup = app.add_subcommand("backup", "Backup files: verify");
  backup->require_subcommand(1);
  auto* verify = backup->add_subcommand(
      "verify",
      "Decrypt and check a backup (every chunk, the manifest, every member's checksum, the schema "
      "revision) without restoring it; writes nothing");
  verify->add_option("FILE", verify_args.file, "Backup file")->required();
  add_passphrase_option(verify, &verify_args);
  verify->add_flag("--json", verify_args.json, "Machine-readable output");
  verify->callback([] { run_backup_verify(verify_args); });

  auto* restore = app.add_subcommand(
      "restore",
      "Restore an instance from a backup into this $DIVE_HOME (empty, or without that instance): "
      "verified first, then put in place and deployed (no seeding)");
  restore->add_option("FILE", restore_args.file, "Backup file")->required();
  restore->add_option("--host", restore_args.host,
                      "The restored instance's public host name or IPv4 address (new URLs, issuer and a "
                      "certificate signed by the restored CA); default: the backup's");
  add_passphrase_option(restore, &restore_args);
  restore->add_flag("--json", restore_args.json, "Summary as JSON (progress goes to stderr)");
  restore->callback([] { run_restore(restore_args); });
}

}  // namespace dive::cli
