#include "orchestrator/backup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <pqxx/pqxx>

#include "backup/archive.hpp"
#include "common/build_info.hpp"
#include "common/fs.hpp"
#include "common/process.hpp"
#include "common/strings.hpp"
#include "orchestrator/backup_files.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/orch_db.hpp"
#include "orchestrator/pipeline.hpp"
#include "store/embedded_migrations.hpp"
#include "store/local_postgres.hpp"
#include "store/migrations.hpp"
#include "store/redis_client.hpp"

namespace dive::orch {

using namespace std::chrono_literals;

namespace {

std::string utc_time(std::time_t t, const char* fmt) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

// Copies the regular files below `from` to `to` (same relative paths and permission bits).
void copy_tree(const fs::path& from, const fs::path& to) {
  if (!fs::exists(from)) return;
  for (const auto& e : fs::recursive_directory_iterator(from)) {
    if (!e.is_regular_file()) continue;
    const fs::path dst = to / fs::relative(e.path(), from);
    ensure_dir(dst.parent_path(), 0700);
    fs::copy_file(e.path(), dst, fs::copy_options::overwrite_existing);
    fs::permissions(dst, e.status().permissions(), fs::perm_options::replace);
  }
}

void copy_one(const fs::path& from, const fs::path& to) {
  if (!fs::exists(from)) return;
  ensure_dir(to.parent_path(), 0700);
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  fs::permissions(to, fs::status(from).permissions(), fs::perm_options::replace);
}

struct DbSnapshot {
  int schema = 0;
  Json counts = Json::object();
  std::string server_version;
};

// Counts of what the snapshot holds (tables that do not exist yet count 0).
void count_rows(pqxx::work& tx, DbSnapshot& s) {
  for (const char* table : {"resources", "idp_users", "kas_keys", "idp_signing_keys", "federation_spokes",
                            "revocation_outbox", "policy_bundles"}) {
    const bool exists =
        tx.exec("SELECT to_regclass('" + std::string(table) + "') IS NOT NULL")[0][0].as<bool>();
    s.counts[table] = exists ? tx.exec("SELECT count(*) FROM " + std::string(table))[0][0].as<int64_t>() : 0;
  }
  s.server_version = tx.exec("SHOW server_version")[0][0].c_str();
}

// pg_dump of one snapshot: a repeatable-read transaction exports it, its counts and schema revision are read
// in it, and pg_dump (-Fd -j N, every worker on that snapshot) dumps exactly it.
DbSnapshot dump_database(const InstancePaths& paths, const Json& cfg, const Json& secrets,
                         const fs::path& dir, const BackupOptions& o) {
  DbSnapshot s;
  const auto port = static_cast<uint16_t>(cfg["ports"]["postgres"].get<int>());
  const std::string db = cfg["database"].value("name", "dive"), user = cfg["database"].value("user", "dive");
  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = std::make_unique<pqxx::connection>(instance_db_conninfo(paths, 5));
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot reach the PostgreSQL of " + paths.code +
                             " (a backup is taken from the " +
                             "running instance: start it first): " + trim(e.what()));
  }
  pqxx::work tx(*conn);
  tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  const std::string snapshot = tx.exec("SELECT pg_export_snapshot()")[0][0].c_str();
  s.schema = tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0].as<bool>()
                 ? tx.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0].as<int>()
                 : 0;
  count_rows(tx, s);
  SpawnOptions sp;
  sp.argv = {store::pg_tool("pg_dump"),
             "-h",
             "127.0.0.1",
             "-p",
             std::to_string(port),
             "-U",
             user,
             "-d",
             db,
             "-Fd",
             "-j",
             std::to_string(std::max(1, o.pg_jobs)),
             "-Z",
             std::to_string(o.pg_compression),
             "--snapshot=" + snapshot,
             "--no-sync",
             "-f",
             dir.string()};
  sp.env["PGPASSWORD"] = secrets.at("postgres_password");  // the database's, never the backup passphrase
  sp.env["PGCONNECT_TIMEOUT"] = "5";
  auto r = run_capture(sp, 600s);
  tx.commit();
  if (r.exit_code != 0)
    throw std::runtime_error("pg_dump failed" + std::string(r.timed_out ? " (timeout)" : "") + ": " +
                             trim(r.output));
  return s;
}

// The revocations that live only in Redis: every blacklist:<jti> and user-revoked:<uniqueID> key with its
// value and absolute expiry (ms since the epoch; null = none).
Json snapshot_revocations(const Json& cfg, const Json& secrets) {
  store::RedisConfig rc;
  rc.name = "backup";
  rc.port = static_cast<uint16_t>(cfg["blacklist_redis"]["port"].get<int>());
  rc.password = secrets.at("blacklist_redis_password");
  rc.command_timeout = Millis(10000);
  rc.pool_size = 1;
  store::RedisClient redis(rc, nullptr);
  Json out{{"taken_at_ms", wall_ms()}, {"keys", Json::array()}, {"tokens", 0}, {"users", 0}};
  static const std::string kScript =
      "local r = {} for _, k in ipairs(KEYS) do r[#r+1] = redis.call('GET', k) or ''; "
      "r[#r+1] = redis.call('PTTL', k) end return r";
  for (const char* prefix : {"blacklist:", "user-revoked:"}) {
    auto keys = redis.scan_keys(std::string(prefix) + "*", 1000);
    std::sort(keys.begin(), keys.end());
    for (size_t at = 0; at < keys.size(); at += 500) {
      const size_t n = std::min<size_t>(500, keys.size() - at);
      std::vector<std::string> cmd{"EVAL", kScript, std::to_string(n)};
      cmd.insert(cmd.end(), keys.begin() + static_cast<std::ptrdiff_t>(at),
                 keys.begin() + static_cast<std::ptrdiff_t>(at + n));
      const int64_t base = wall_ms();
      auto reply = redis.command(cmd);
      for (size_t i = 0; i < n && 2 * i + 1 < reply.elements.size(); ++i) {
        const int64_t pttl = reply.elements[2 * i + 1].integer;
        if (pttl == -2) continue;  // expired since the scan
        out["keys"].push_back({{"key", keys[at + i]},
                               {"value", reply.elements[2 * i].str},
                               {"expires_at_ms", pttl >= 0 ? Json(base + pttl) : Json(nullptr)}});
        out[std::string(prefix) == "blacklist:" ? "tokens" : "users"] =
            out[std::string(prefix) == "blacklist:" ? "tokens" : "users"].get<int64_t>() + 1;
      }
    }
  }
  return out;
}

// Creates `path` (mode 600, refusing an existing file) for writing.
std::ofstream create_private(const fs::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
  ::close(fd);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  return out;
}

void fsync_path(const fs::path& p, bool dir) {
  int fd = ::open(p.c_str(), (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void say(const BackupOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

// The deployment lock of `code`, held for the backup (a deploy meanwhile would change what is copied).
std::unique_ptr<OrchDb> hold_deploy_lock(const Layout& layout, const std::string& code) {
  std::unique_ptr<OrchDb> lock_db;
  try {
    lock_db = std::make_unique<OrchDb>(orchestration_conninfo(layout, code));
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot reach the orchestration database to take " + code +
                             "'s deployment lock (is the instance running?): " + trim(e.what()));
  }
  std::string holder;
  if (!lock_db->acquire_deploy_lock(code, 30s, &holder))
    throw std::runtime_error("a deploy of " + code + " holds its deployment lock (" + holder +
                             "): back up once it has finished");
  return lock_db;
}

// The absolute path of the backup file: `requested`, or <home>/backups/<code>-<time>.divebak; never an
// existing file. Its folder is created when missing.
fs::path backup_file_path(const Layout& layout, const std::string& code, const fs::path& requested,
                          std::time_t started) {
  fs::path out = requested;
  if (out.empty()) {
    const fs::path dir = layout.home / "backups";
    ensure_dir(dir, 0700);
    out = dir / (to_lower(code) + "-" + utc_time(started, "%Y%m%dT%H%M%SZ") + ".divebak");
  }
  out = fs::absolute(out);
  if (fs::exists(out)) throw std::runtime_error(out.string() + " already exists: choose another --out");
  // Never change the mode of a folder the operator named (--out /tmp/x.divebak must not lock /tmp): create it
  // private only when it does not exist yet.
  create_missing_dir(out.parent_path(), 0700);  // never chmod an existing folder (/tmp, say)
  return out;
}

// The database dumped into `dir` (dump_database), refused when its schema is newer than this dive knows.
DbSnapshot dump_known_database(const std::string& code, const InstancePaths& paths, const Json& cfg,
                               const Json& secrets, const fs::path& dir, const BackupOptions& o) {
  say(o, "snapshot of " + code + "'s database (pg_dump -Fd -j" + std::to_string(o.pg_jobs) + ")");
  const auto t_db = std::chrono::steady_clock::now();
  DbSnapshot snap = dump_database(paths, cfg, secrets, dir, o);
  say(o, "database dumped: " + std::to_string(snap.counts.value("resources", 0)) + " documents, " +
             std::to_string(snap.counts.value("idp_users", 0)) + " users, schema revision " +
             std::to_string(snap.schema) + " (" +
             format_duration_ms(
                 std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t_db).count()) +
             ")");
  if (snap.schema > known_schema_revision())
    throw std::runtime_error(code + "'s schema revision " + std::to_string(snap.schema) +
                             " is newer than this dive knows (" + std::to_string(known_schema_revision()) +
                             "): back it up with the dive that runs it");
  return snap;
}

// The revocations written to <scratch>/revocations.json: the blacklist Redis's on the anchor (the hub), none
// elsewhere.
Json save_revocations(bool anchor, const Json& cfg, const Json& secrets, const fs::path& scratch,
                      const BackupOptions& o) {
  Json revocations{{"tokens", 0}, {"users", 0}, {"keys", Json::array()}, {"taken_at_ms", wall_ms()}};
  if (anchor) {
    revocations = snapshot_revocations(cfg, secrets);
    say(o, "revocations: " + std::to_string(revocations["tokens"].get<int64_t>()) + " tokens, " +
               std::to_string(revocations["users"].get<int64_t>()) + " users (blacklist Redis)");
  }
  write_file_atomic(scratch / "revocations.json", revocations.dump() + "\n", 0600);
  return revocations;
}

// The settings, secrets, certificate and federation files, and the home's CA, copied first so that a file a
// service rewrites meanwhile cannot differ between its checksum and its bytes.
void copy_instance_files(const Layout& layout, const InstancePaths& paths, const fs::path& scratch) {
  for (const char* f : {"instance.json", "secrets.json"}) copy_one(paths.dir / f, scratch / "instance" / f);
  copy_tree(paths.certs, scratch / "instance" / "certs");
  copy_tree(paths.dir / "federation", scratch / "instance" / "federation");
  copy_one(layout.ca_cert(), scratch / "ca" / "rootCA.pem");
  copy_one(layout.ca_dir() / "rootCA-key.pem", scratch / "ca" / "rootCA-key.pem");
}

// The manifest: what the backup is of (instance, role, schema, database, counts, placement) and its members.
Json backup_manifest(const InstancePaths& paths, const Json& cfg, bool anchor, std::time_t started,
                     const DbSnapshot& snap, const Json& revocations,
                     const std::vector<backup::Member>& members) {
  Json manifest{{"format", "dive-backup"},
                {"format_version", backup::kFormatVersion},
                {"instance", paths.code},
                {"role", is_hub(paths.code) ? "hub" : "spoke"},
                {"anchor", anchor},
                {"created_at", utc_time(started, "%Y-%m-%dT%H:%M:%SZ")},
                {"created_at_ms", wall_ms()},
                {"dive", {{"version", build_version()}, {"revision", build_revision()}}},
                {"schema_revision", snap.schema},
                {"database",
                 {{"name", cfg["database"].value("name", "dive")},
                  {"format", "pg_dump directory"},
                  {"postgres", snap.server_version}}},
                {"counts", snap.counts},
                {"profile", cfg.value("profile", "dev")},
                {"port_shift", cfg.value("port_shift", 0)},
                {"placement", Placement::from_config(cfg).to_json()},
                {"members", Json::array()}};
  manifest["counts"]["revocations"] = {{"tokens", revocations["tokens"]}, {"users", revocations["users"]}};
  if (!anchor && cfg.contains("hub")) manifest["hub"] = cfg["hub"];
  for (const auto& m : members)
    manifest["members"].push_back(
        {{"name", m.name}, {"size", m.size}, {"sha256", m.sha256}, {"mode", m.mode}});
  return manifest;
}

// The members encrypted into `out` under the passphrase: written to <out>.partial (removed on failure),
// synced, then renamed into place.
void write_encrypted(const fs::path& out, const fs::path& scratch, const std::vector<backup::Member>& members,
                     const backup::Manifest& manifest, const BackupOptions& o) {
  uint64_t payload = 0;
  for (const auto& m : members) payload += m.size;
  say(o, "encrypting " + format_bytes(payload) + " in " + std::to_string(members.size()) + " members (" +
             backup::HeaderInfo{backup::kFormatVersion, o.kdf, o.chunk_size}.describe_kdf() +
             ", AES-256-GCM)");
  const fs::path partial = out.string() + ".partial";
  RemoveOnFailure guard(partial);
  {
    std::ofstream file = create_private(partial);
    backup::ContainerWriter container(file, o.passphrase, o.kdf, o.chunk_size);
    backup::ArchiveWriter archive(container, manifest);
    uint64_t done = 0, next_report = payload / 4;
    for (const auto& m : members) {
      std::ifstream in(scratch / m.name, std::ios::binary);
      archive.add(m.name, in);
      done += m.size;
      if (payload > (64u << 20) && done >= next_report && done < payload) {
        say(o, "  " + std::to_string(done * 100 / payload) + "% encrypted");
        next_report += payload / 4;
      }
    }
    archive.finish();
    container.finish();
    file.close();
    if (!file) throw std::runtime_error("cannot write " + partial.string());
  }
  fsync_path(partial, false);
  fs::rename(partial, out);
  fsync_path(out.parent_path(), true);
  guard.release();
}

}  // namespace

int known_schema_revision() {
  const auto& migs = store::instance_migrations();
  return migs.empty() ? 0 : migs.back().version;
}

std::string read_backup_passphrase(const std::string& file) {
  std::string pass;
  if (!file.empty()) {
    auto text = try_read_file(file);
    if (!text) throw std::invalid_argument("cannot read the passphrase file " + file);
    pass = text->substr(0, text->find('\n'));
    if (!pass.empty() && pass.back() == '\r') pass.pop_back();
  } else if (const char* e = std::getenv("DIVE_BACKUP_PASSPHRASE"); e) {
    pass = e;
    // No child of ours inherits it: not pg_dump, not the supervisor a restore starts (nor its services).
    ::unsetenv("DIVE_BACKUP_PASSPHRASE");
  }
  if (pass.empty())
    throw std::invalid_argument(
        "a backup passphrase is required: --passphrase-file FILE or DIVE_BACKUP_PASSPHRASE (it is never "
        "stored "
        "with the backup: keep it apart)");
  if (pass.size() < 12) throw std::invalid_argument("the backup passphrase must have at least 12 characters");
  return pass;
}

Json BackupResult::to_json() const {
  return Json{{"file", file.string()},
              {"bytes", bytes},
              {"documents", documents},
              {"durationSeconds", seconds},
              {"sha256", sha256},
              {"instance", manifest.value("instance", "")},
              {"role", manifest.value("role", "")},
              {"schemaRevision", manifest.value("schema_revision", 0)},
              {"createdAt", manifest.value("created_at", "")},
              {"members", manifest.contains("members") ? manifest["members"].size() : 0},
              {"revocations", manifest.value("counts", Json::object()).value("revocations", Json::object())}};
}

BackupResult backup_instance(const Layout& layout, const std::string& code, const BackupOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.passphrase.empty()) throw std::invalid_argument("a backup passphrase is required");
  const InstancePaths paths = layout.instance(code);
  if (!fs::exists(paths.instance_json))
    throw std::runtime_error(code + " is not deployed under " + layout.home.string());
  const Json cfg = read_instance_config(paths);
  const Json secrets = read_secrets(paths);
  const bool anchor = is_anchor(cfg);

  std::unique_ptr<OrchDb> lock_db;
  if (o.take_deploy_lock) lock_db = hold_deploy_lock(layout, code);

  const std::time_t started = std::time(nullptr);
  const fs::path out = backup_file_path(layout, code, o.out, started);

  // Everything goes through a private scratch folder beside the output, removed whatever happens.
  ScratchDir scratch(out.parent_path() / (".staging-" + to_lower(code) + "-" + std::to_string(::getpid())));
  const DbSnapshot snap = dump_known_database(code, paths, cfg, secrets, scratch.path() / "db", o);
  const Json revocations = save_revocations(anchor, cfg, secrets, scratch.path(), o);
  copy_instance_files(layout, paths, scratch.path());

  // The manifest: small members first, the database last.
  std::vector<backup::Member> members;
  for (const char* top : {"instance", "ca", "revocations.json", "db"})
    for (auto& m : describe_members(scratch.path(), top)) members.push_back(std::move(m));
  const Json manifest = backup_manifest(paths, cfg, anchor, started, snap, revocations, members);
  write_encrypted(out, scratch.path(), members, backup::Manifest::from_json(manifest), o);

  BackupResult res;
  res.file = out;
  res.bytes = fs::file_size(out);
  res.documents = snap.counts.value("resources", int64_t{0});
  res.sha256 = sha256_file(out);
  res.manifest = manifest;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (lock_db) lock_db->release_deploy_lock(code);
  say(o, "backup written: " + out.string() + " (" + format_bytes(res.bytes) + ")");
  return res;
}

}  // namespace dive::orch
