#include "orchestrator/restore.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "backup/archive.hpp"
#include "common/fs.hpp"
#include "common/process.hpp"
#include "common/strings.hpp"
#include "orchestrator/backup.hpp"
#include "orchestrator/backup_files.hpp"
#include "orchestrator/instance_control.hpp"
#include "orchestrator/monitoring_stack.hpp"
#include "orchestrator/pipeline.hpp"
#include "orchestrator/port_probe.hpp"
#include "orchestrator/ports.hpp"
#include "store/local_postgres.hpp"
#include "store/local_redis.hpp"
#include "store/redis_client.hpp"

namespace dive::orch {

using namespace std::chrono_literals;

namespace {

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Reads the whole file into `sink`; every refusal of the container or the archive becomes a RestoreRefused.
// Returns the reader's header and chunk count.
std::pair<backup::HeaderInfo, uint64_t> read_backup(const fs::path& file, const std::string& passphrase,
                                                    backup::ArchiveSink& sink) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw RestoreRefused("unreadable", "cannot read " + file.string());
  try {
    backup::ContainerReader reader(in, passphrase);
    backup::read_archive(reader, sink);
    return {reader.header(), reader.chunks_read()};
  } catch (const backup::ContainerError& e) {
    throw RestoreRefused(backup::to_string(e.kind()), e.what());
  } catch (const backup::ArchiveError& e) {
    static const char* kinds[] = {"bad_manifest", "bad_member", "checksum_mismatch"};
    throw RestoreRefused(kinds[static_cast<int>(e.kind())], e.what());
  }
}

// The manifest checks every reader makes: our format, a known instance code, a schema this binary knows.
void check_manifest(const Json& m) {
  if (m.value("format", "") != "dive-backup" || !m.contains("instance") || !m["instance"].is_string() ||
      !normalize_code(m["instance"].get<std::string>()))
    throw RestoreRefused("bad_manifest", "bad manifest: not a DIVE instance backup");
  const int schema = m.value("schema_revision", -1);
  if (schema < 0) throw RestoreRefused("bad_manifest", "bad manifest: no schema revision");
  if (schema > known_schema_revision())
    throw RestoreRefused("newer_schema",
                         "the backup's schema revision " + std::to_string(schema) +
                             " is newer than this dive knows (" + std::to_string(known_schema_revision()) +
                             "): restore it with the dive that made it (" +
                             m.value("/dive/version"_json_pointer, std::string("?")) + ", " +
                             m.value("/dive/revision"_json_pointer, std::string("?")) + ") or a newer one");
}

// Reads everything, keeps nothing.
class VerifySink : public backup::ArchiveSink {
 public:
  Json manifest_json;
  uint64_t payload = 0;
  void manifest(const backup::Manifest& m) override {
    check_manifest(m.json);
    manifest_json = m.json;
  }
  void begin(const backup::Member&) override {}
  void data(std::string_view bytes) override { payload += bytes.size(); }
  void end(const backup::Member&) override {}
};

// A loopback port nobody listens on right now (for the restore's private servers).
int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("no free loopback port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

// A server started for the restore only; stopped (signal, then SIGKILL after the grace) when the object goes.
class PrivateServer {
 public:
  PrivateServer(SpawnOptions o, int stop_signal) : sig_(stop_signal) { pid_ = spawn(o); }
  ~PrivateServer() { stop(); }
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;
  bool running() const { return pid_ > 0 && pid_alive(pid_); }
  void stop() {
    if (pid_ > 0) terminate_pid(pid_, 30s, sig_);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int sig_;
};

template <class Ready>
void wait_ready(const PrivateServer& s, const std::string& what, const fs::path& log, Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!ready()) {
    if (!s.running() || std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error(
          what + " for the restore did not start: " + trim(try_read_file(log).value_or("(no log)")));
    std::this_thread::sleep_for(100ms);
  }
}

// Writes the members into the staging folder, after checking that the target can take this instance.
class StagingSink : public backup::ArchiveSink {
 public:
  StagingSink(const Layout& layout, const RestoreOptions& o, const Console& out)
      : layout_(layout), o_(o), out_(out) {}

  Json manifest_json;
  std::string code;
  std::unique_ptr<ScratchDir> staging;
  bool ca_present = false;

  void manifest(const backup::Manifest& m) override {
    check_manifest(m.json);
    manifest_json = m.json;
    code = to_upper(m.json["instance"].get<std::string>());
    out_.info("backup of " + code + " (" + m.json.value("role", "") + ") taken " +
              m.json.value("created_at", "") + " by dive " +
              m.json.value("/dive/version"_json_pointer, std::string()) + ", schema revision " +
              std::to_string(m.json.value("schema_revision", 0)));
    check_target(m);
    staging = std::make_unique<ScratchDir>(
        layout_.home / (".restore-" + to_lower(code) + "-" + std::to_string(::getpid())), 0711);
  }
  void begin(const backup::Member& m) override {
    const fs::path p = staging->path() / m.name;
    ensure_dir(p.parent_path(), m.name.rfind("ca/", 0) == 0 || m.name.rfind("db/", 0) == 0 ? 0700 : 0755);
    file_.open(p, std::ios::binary | std::ios::trunc);
    if (!file_) throw std::runtime_error("cannot write " + p.string());
    fs::permissions(p, static_cast<fs::perms>(m.mode), fs::perm_options::replace);
  }
  void data(std::string_view bytes) override {
    file_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  void end(const backup::Member& m) override {
    file_.close();
    if (!file_) throw std::runtime_error("cannot write " + (staging->path() / m.name).string());
  }

 private:
  // Refuses a target that cannot take the instance, naming what is in the way.
  void check_target(const backup::Manifest& m) {
    const InstancePaths paths = layout_.instance(code);
    if (fs::exists(paths.dir))
      throw RestoreRefused("in_the_way", code + " is already in " + layout_.home.string() + " (" +
                                             paths.dir.string() +
                                             "): restore into an empty $DIVE_HOME or one without " + code +
                                             " (./dive nuke removes an instance)");
    if (!m.json.value("anchor", true) && !fs::exists(layout_.instance(std::string(kHubCode)).instance_json))
      throw RestoreRefused("no_hub", code +
                                         " was a spoke of its hub's home (it shares the hub's revocation "
                                         "store): restore the hub (" +
                                         std::string(kHubCode) + ") into this home first");
    ca_present = fs::exists(layout_.ca_cert());
    if (ca_present) {
      std::string want;
      for (const auto& mem : m.members)
        if (mem.name == "ca/rootCA.pem") want = mem.sha256;
      if (want != sha256_file(layout_.ca_cert()))
        throw RestoreRefused("in_the_way",
                             layout_.ca_cert().string() +
                                 " is another CA than the backup's: restoring would break the "
                                 "trust of this home's instances; restore into another $DIVE_HOME");
    }
    const int shift = o_.port_shift.value_or(m.json.value("port_shift", 0));
    auto ports = named_ports(resolve_ports(code, shift).ports);
    if (m.json.value("anchor", true)) ports.emplace_back("blacklist redis", blacklist_redis_port(shift));
    for (const auto& [name, port] : ports) {
      if (port_free(port)) continue;
      throw RestoreRefused("in_the_way", "port " + std::to_string(port) + " (" + name + " of " + code +
                                             ") is in use by " + describe_holder(port_holder(port)));
    }
  }

  const Layout& layout_;
  const RestoreOptions& o_;
  const Console& out_;
  std::ofstream file_;
};

// initdb in the staging folder, a private PostgreSQL on a free port, pg_restore of the dump, counts checked.
int64_t restore_database(const fs::path& stage, const Json& cfg, const Json& secrets, const Json& manifest,
                         int jobs) {
  const auto who = store::postgres_run_as();
  store::PgClusterSpec pg;
  pg.data_dir = stage / "instance" / "pg";
  pg.port = static_cast<uint16_t>(free_loopback_port());
  pg.superuser = cfg["database"].value("user", "dive");
  pg.password = secrets.at("postgres_password");
  pg.fast_unsafe = cfg["postgres"].value("fast_unsafe", false);
  pg.shared_buffers = cfg["postgres"].value("shared_buffers", "32MB");
  store::pg_init_cluster(pg, who, 120s);
  const fs::path log = stage / "postgres.log";
  SpawnOptions so;
  so.argv = store::pg_server_argv(pg);
  so.uid = who.uid;
  so.gid = who.gid;
  so.stdout_path = log.string();
  so.env["LC_ALL"] = "C.UTF-8";
  PrivateServer server(so, SIGINT);  // fast shutdown
  wait_ready(server, "PostgreSQL", log,
             [&] { return store::pg_accepts("127.0.0.1", pg.port, pg.superuser, pg.password, 1s); });
  const std::string db = cfg["database"].value("name", "dive");
  store::pg_ensure_databases("127.0.0.1", pg.port, pg.superuser, pg.password, {db});
  SpawnOptions r;
  r.argv = {store::pg_tool("pg_restore"),
            "-h",
            "127.0.0.1",
            "-p",
            std::to_string(pg.port),
            "-U",
            pg.superuser,
            "-d",
            db,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "-j",
            std::to_string(std::max(1, jobs)),
            (stage / "db").string()};
  r.env["PGPASSWORD"] = pg.password;  // the database's own password, from the restored secrets
  auto res = run_capture(r, 600s);
  if (res.exit_code != 0)
    throw std::runtime_error("pg_restore failed" + std::string(res.timed_out ? " (timeout)" : "") + ": " +
                             trim(res.output));
  pqxx::connection c(store::pg_conninfo("127.0.0.1", pg.port, db, pg.superuser, pg.password, 5));
  pqxx::nontransaction tx(c);
  tx.exec("ANALYZE");
  const int64_t docs = tx.exec("SELECT count(*) FROM resources")[0][0].as<int64_t>();
  const int64_t want = manifest.value("/counts/resources"_json_pointer, int64_t{0});
  if (docs != want)
    throw std::runtime_error("the restored database holds " + std::to_string(docs) +
                             " documents; the backup's manifest says " + std::to_string(want));
  server.stop();
  return docs;
}

// The revocation Redis of an instance that has its own (the hub, a standalone spoke): a private server on a
// free port writes its append-only file in the staging folder; every key is set again with its expiry
// (expired ones are left out).
size_t restore_revocations(const fs::path& stage, const Json& secrets) {
  const Json rev = Json::parse(read_file(stage / "revocations.json"));
  store::RedisServerSpec spec;
  spec.dir = stage / "instance" / "redis-blacklist";
  spec.port = static_cast<uint16_t>(free_loopback_port());
  spec.password = secrets.at("blacklist_redis_password");
  spec.maxmemory_policy = "noeviction";
  ensure_dir(spec.dir, 0700);
  const fs::path conf = store::redis_write_config(spec);
  const fs::path log = stage / "redis.log";
  SpawnOptions so;
  so.argv = store::redis_server_argv(conf);
  so.stdout_path = log.string();
  PrivateServer server(so, SIGTERM);  // Redis saves and fsyncs its append-only file on SIGTERM
  store::RedisConfig rc;
  rc.name = "restore";
  rc.port = spec.port;
  rc.password = spec.password;
  rc.pool_size = 1;
  rc.command_timeout = Millis(10000);
  store::RedisClient redis(rc, nullptr);
  wait_ready(server, "Redis", log, [&] {
    try {
      return !port_free(spec.port) && redis.ping();  // listening first: no connection errors in the log
    } catch (const std::exception&) {
      return false;
    }
  });
  size_t set = 0;
  const int64_t now = wall_ms();
  for (const auto& k : rev.value("keys", Json::array())) {
    const std::string key = k.at("key"), value = k.at("value");
    if (k["expires_at_ms"].is_null()) {
      redis.command({"SET", key, value});
    } else {
      const int64_t at = k["expires_at_ms"];
      if (at <= now + 1) continue;
      redis.command({"SET", key, value, "PXAT", std::to_string(at)});
    }
    ++set;
  }
  server.stop();
  fs::remove(conf);  // the pipeline writes the instance's own
  return set;
}

// The staged instance.json. When the instance moved (another host or other ports), its documents' key
// access objects name the kas where it was: that address is added to kas_former_urls (written back).
Json staged_config(const fs::path& stage, const RestoreOptions& o, const Console& out) {
  Json cfg = Json::parse(read_file(stage / "instance" / "instance.json"));
  const bool moved = (o.placement && o.placement->host != Placement::from_config(cfg).host) ||
                     (o.port_shift && *o.port_shift != cfg.value("port_shift", 0));
  const std::string old_kas = cfg["urls"].value("kas", "");
  if (moved && !old_kas.empty()) {
    auto former = cfg.value("kas_former_urls", std::vector<std::string>{});
    if (std::find(former.begin(), former.end(), old_kas) == former.end()) former.push_back(old_kas);
    cfg["kas_former_urls"] = former;
    write_file_atomic(stage / "instance" / "instance.json", cfg.dump(2) + "\n", 0644);
    out.info("moved: documents wrapped for " + old_kas + " are answered by the new kas address");
  }
  return cfg;
}

// The staged instance folder moved into place, and the staged CA when the home has none. Returns whether
// the CA was placed (a rollback removes it again).
bool place_staged(const Layout& layout, const InstancePaths& paths, const fs::path& stage, bool ca_present) {
  create_missing_dir(layout.instances_dir(), 0755);
  bool placed_ca = false;
  try {
    fs::rename(stage / "instance", paths.dir);
    if (!ca_present) {
      fs::rename(stage / "ca", layout.ca_dir());
      placed_ca = true;
    }
  } catch (const std::exception&) {
    std::error_code ec;
    fs::remove_all(paths.dir, ec);
    throw;
  }
  return placed_ca;
}

// The normal deploy pipeline on the restored instance (no seeding); an exception becomes a failed DEPLOY.
DeployResult deploy_restored(const Layout& layout, const RestoreResult& res, const Json& cfg,
                             const RestoreOptions& o, const Console& out) {
  DeployOptions d;
  d.code = res.code;
  d.profile = parse_profile(cfg.value("profile", "dev")).value_or(Profile::Dev);
  d.port_shift = o.port_shift.value_or(res.manifest.value("port_shift", 0));
  d.placement = o.placement;
  d.skip_seeding = true;
  d.dive_exe = o.dive_exe;
  d.policy = OrchPolicy::for_profile(d.profile);
  DeployResult dr;
  try {
    dr = deploy_instance(layout, d, out);
  } catch (const std::exception& e) {
    dr.exit_code = 1;
    dr.failed_step = "DEPLOY";
    dr.reason = e.what();
  }
  return dr;
}

}  // namespace

Json BackupVerifyReport::to_json() const {
  return Json{{"ok", true},
              {"bytes", bytes},
              {"payloadBytes", payload},
              {"chunks", chunks},
              {"chunkSize", header.chunk_size},
              {"kdf", header.describe_kdf()},
              {"formatVersion", header.version},
              {"durationSeconds", seconds},
              {"manifest", manifest}};
}

BackupVerifyReport verify_backup(const fs::path& file, const std::string& passphrase) {
  const auto t0 = std::chrono::steady_clock::now();
  VerifySink sink;
  auto [header, chunks] = read_backup(file, passphrase, sink);
  BackupVerifyReport r;
  r.header = header;
  r.chunks = chunks;
  r.manifest = sink.manifest_json;
  r.payload = sink.payload;
  r.bytes = fs::file_size(file);
  r.seconds = since(t0);
  return r;
}

Json RestoreResult::to_json() const {
  Json j{{"ok", exit_code == 0},
         {"instance", code},
         {"documents", documents},
         {"durationSeconds", seconds},
         {"unpackSeconds", unpack_seconds},
         {"databaseSeconds", database_seconds},
         {"deploySeconds", deploy_seconds},
         {"schemaRevision", manifest.value("schema_revision", 0)},
         {"backupCreatedAt", manifest.value("created_at", "")}};
  if (exit_code != 0) j["failed"] = {{"step", failed_step}, {"reason", reason}};
  return j;
}

RestoreResult restore_instance(const Layout& layout, const RestoreOptions& o, const Console& out) {
  const auto t0 = std::chrono::steady_clock::now();
  RestoreResult res;
  create_missing_dir(layout.home, 0755);
  // 1. Decrypt and check the whole file into the staging folder (the manifest first: the target is checked
  //    before anything is written). A refusal removes the staging folder: nothing was put in place.
  out.step("reading and checking " + o.file.string());
  StagingSink sink(layout, o, out);
  read_backup(o.file, o.passphrase, sink);
  res.code = sink.code;
  res.manifest = sink.manifest_json;
  res.unpack_seconds = since(t0);
  out.ok("every chunk, the manifest and " + std::to_string(res.manifest["members"].size()) +
         " members verified (" + format_duration_ms(static_cast<int64_t>(res.unpack_seconds * 1000)) + ")");
  const fs::path stage = sink.staging->path();
  const Json cfg = staged_config(stage, o, out);
  const Json secrets = Json::parse(read_file(stage / "instance" / "secrets.json"));

  // 2. The database and the revocations, built in the staging folder by private servers.
  const auto t_db = std::chrono::steady_clock::now();
  out.step("restoring the database (initdb + pg_restore -j" + std::to_string(o.pg_jobs) + ")");
  res.documents = restore_database(stage, cfg, secrets, res.manifest, o.pg_jobs);
  out.ok("database restored: " + std::to_string(res.documents) + " documents");
  if (res.manifest.value("anchor", true)) {
    const size_t n = restore_revocations(stage, secrets);
    out.ok("revocations restored: " + std::to_string(n) + " keys with their remaining lifetime");
  }
  res.database_seconds = since(t_db);

  // 3. In place, then the normal pipeline (no seeding). A failure from here on is rolled back.
  const InstancePaths paths = layout.instance(res.code);
  const bool placed_ca = place_staged(layout, paths, stage, sink.ca_present);
  sink.staging.reset();
  const auto t_deploy = std::chrono::steady_clock::now();
  const DeployResult dr = deploy_restored(layout, res, cfg, o, out);
  res.deploy_seconds = since(t_deploy);
  if (dr.exit_code != 0) {
    out.fail("the restored " + res.code + " did not deploy (" + dr.failed_step + ": " + dr.reason +
             "): rolling back");
    stop_instance(paths, 60s);
    remove_instance_targets(layout, res.code);
    std::error_code ec;
    fs::remove_all(paths.dir, ec);
    if (placed_ca) fs::remove_all(layout.ca_dir(), ec);
    res.exit_code = 1;
    res.failed_step = dr.failed_step;
    res.reason = dr.reason;
  }
  res.seconds = since(t0);
  return res;
}

}  // namespace dive::orch
