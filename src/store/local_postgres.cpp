#include "store/local_postgres.hpp"

#include <libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>

#include "common/fs.hpp"
#include "common/process.hpp"

namespace dive::store {

namespace fs = std::filesystem;

RunAs postgres_run_as() {
  RunAs r;
  if (::geteuid() != 0) {
    r.user = "current user";
    return r;
  }
  struct passwd* pw = ::getpwnam("postgres");
  if (!pw)
    throw std::runtime_error(
        "running as root, but there is no 'postgres' system user to run PostgreSQL as "
        "(install postgresql-15: scripts/bootstrap)");
  r.uid = pw->pw_uid;
  r.gid = pw->pw_gid;
  r.user = "postgres";
  return r;
}

std::string pg_bin_dir() {
  if (const char* e = std::getenv("DIVE_PG_BIN"); e && *e) return e;
  return "/usr/lib/postgresql/15/bin";
}

std::string pg_tool(const std::string& name) {
  return pg_bin_dir() + "/" + name;
}

void check_traversable(const fs::path& p, const RunAs& who) {
  if (!who.uid) return;
  fs::path cur = fs::absolute(p);
  std::vector<fs::path> chain;
  for (fs::path q = cur; !q.empty(); q = q.parent_path()) {
    chain.push_back(q);
    if (q == q.root_path()) break;
  }
  for (const auto& dir : chain) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) continue;  // not created yet
    bool ok = (st.st_mode & S_IXOTH) || (st.st_uid == *who.uid && (st.st_mode & S_IXUSR)) ||
              (who.gid && st.st_gid == *who.gid && (st.st_mode & S_IXGRP));
    if (!ok)
      throw std::runtime_error("PostgreSQL runs as the '" + who.user + "' user, which cannot enter " +
                               dir.string() + "; fix: chmod o+x " + dir.string() +
                               " (or set DIVE_HOME to a directory it can reach)");
  }
}

namespace {
void chown_tree(const fs::path& p, const RunAs& who) {
  if (!who.uid) return;
  ::chown(p.c_str(), *who.uid, who.gid.value_or(static_cast<gid_t>(-1)));
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    ::lchown(it->path().c_str(), *who.uid, who.gid.value_or(static_cast<gid_t>(-1)));
}

// A new cluster in spec.data_dir, owned by `who`, with password (SCRAM) authentication only.
void run_initdb(const PgClusterSpec& spec, const RunAs& who, std::chrono::milliseconds timeout) {
  const fs::path dir = spec.data_dir;
  ensure_dir(dir, 0700);
  chown_tree(dir, who);
  // The password reaches initdb through a file only the cluster owner can read, removed right after.
  fs::path pwfile = dir.parent_path() / (".pwfile." + std::to_string(::getpid()));
  write_file_atomic(pwfile, spec.password + "\n", 0600);
  chown_tree(pwfile, who);
  SpawnOptions o;
  o.argv = {pg_tool("initdb"),
            "-D",
            dir.string(),
            "-U",
            spec.superuser,
            "--pwfile=" + pwfile.string(),
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions"};
  o.uid = who.uid;
  o.gid = who.gid;
  o.env["LC_ALL"] = "C.UTF-8";
  RunResult r;
  try {
    r = run_capture(o, timeout);
  } catch (...) {
    fs::remove(pwfile);
    throw;
  }
  fs::remove(pwfile);
  if (r.exit_code != 0) {
    std::error_code ec;
    fs::remove_all(dir, ec);  // a half-made cluster would block the next attempt
    throw std::runtime_error("initdb failed" + std::string(r.timed_out ? " (timeout)" : "") + ": " +
                             r.output);
  }
}

// Our settings live in their own file, included by postgresql.conf, rewritten every time; pg_hba.conf
// admits password logins over loopback only.
void write_dive_settings(const PgClusterSpec& spec) {
  const fs::path dir = spec.data_dir;
  std::string conf = "# written by dive; changes here are overwritten at deploy\n";
  conf += "listen_addresses = '127.0.0.1'\n";
  conf += "port = " + std::to_string(spec.port) + "\n";
  conf += "unix_socket_directories = ''\n";
  conf += "max_connections = " + std::to_string(spec.max_connections) + "\n";
  conf += "shared_buffers = " + spec.shared_buffers + "\n";
  conf += "password_encryption = 'scram-sha-256'\n";
  conf += "log_destination = 'stderr'\nlogging_collector = off\nlog_line_prefix = '%m [%p] %q%u@%d '\n";
  conf += "log_min_messages = warning\n";
  // Test profile: no fsync, so a machine crash could lose data; but a commit is acknowledged only once its
  // WAL is written (synchronous_commit stays on), so a killed PostgreSQL loses nothing it acknowledged
  // (docs/RESILIENCE.md, scenario postgres-killed-during-uploads).
  if (spec.fast_unsafe) conf += "fsync = off\nfull_page_writes = off\n";
  write_file_atomic(dir / "dive.conf", conf, 0600);
  std::string main_conf = read_file(dir / "postgresql.conf");
  if (main_conf.find("include_if_exists = 'dive.conf'") == std::string::npos)
    write_file_atomic(dir / "postgresql.conf", main_conf + "\ninclude_if_exists = 'dive.conf'\n", 0600);
  std::string hba =
      "# written by dive: password authentication, loopback only\n"
      "host all all 127.0.0.1/32 scram-sha-256\n"
      "host all all ::1/128 scram-sha-256\n";
  write_file_atomic(dir / "pg_hba.conf", hba, 0600);
}
}  // namespace

void pg_init_cluster(const PgClusterSpec& spec, const RunAs& who, std::chrono::milliseconds timeout) {
  const fs::path dir = spec.data_dir;
  check_traversable(dir.parent_path(), who);
  if (!fs::exists(dir / "PG_VERSION")) run_initdb(spec, who, timeout);
  write_dive_settings(spec);
  chown_tree(dir, who);
}

std::vector<std::string> pg_server_argv(const PgClusterSpec& spec) {
  return {pg_tool("postgres"), "-D", spec.data_dir.string()};
}

std::string pg_conninfo(const std::string& host, uint16_t port, const std::string& db,
                        const std::string& user, const std::string& password, int connect_timeout_s) {
  auto q = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  return "host=" + q(host) + " port=" + std::to_string(port) + " dbname=" + q(db) + " user=" + q(user) +
         " password=" + q(password) + " connect_timeout=" + std::to_string(connect_timeout_s) +
         " application_name='dive'";
}

namespace {
struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;
struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;
}  // namespace

bool pg_accepts(const std::string& host, uint16_t port, const std::string& user, const std::string& password,
                std::chrono::milliseconds timeout) {
  int secs = static_cast<int>(std::max<int64_t>(1, (timeout.count() + 999) / 1000));
  PgConnPtr c(PQconnectdb(pg_conninfo(host, port, "postgres", user, password, secs).c_str()));
  return c && PQstatus(c.get()) == CONNECTION_OK;
}

void pg_ensure_databases(const std::string& host, uint16_t port, const std::string& user,
                         const std::string& password, const std::vector<std::string>& names) {
  PgConnPtr c(PQconnectdb(pg_conninfo(host, port, "postgres", user, password, 5).c_str()));
  if (!c || PQstatus(c.get()) != CONNECTION_OK)
    throw std::runtime_error(std::string("cannot connect to PostgreSQL: ") +
                             (c ? PQerrorMessage(c.get()) : "no memory"));
  for (const auto& name : names) {
    const char* params[1] = {name.c_str()};
    PgResultPtr r(PQexecParams(c.get(), "SELECT 1 FROM pg_database WHERE datname = $1", 1, nullptr, params,
                               nullptr, nullptr, 0));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
      throw std::runtime_error(std::string("cannot list databases: ") + PQerrorMessage(c.get()));
    if (PQntuples(r.get()) > 0) continue;
    // CREATE DATABASE takes no parameters: the identifier is quoted by libpq.
    std::unique_ptr<char, decltype(&PQfreemem)> ident(PQescapeIdentifier(c.get(), name.c_str(), name.size()),
                                                      PQfreemem);
    PgResultPtr cr(PQexec(c.get(), ("CREATE DATABASE " + std::string(ident.get())).c_str()));
    if (PQresultStatus(cr.get()) != PGRES_COMMAND_OK) {
      std::string err = PQerrorMessage(c.get());
      if (err.find("already exists") == std::string::npos)  // a concurrent creator won the race
        throw std::runtime_error("cannot create database " + name + ": " + err);
    }
  }
}

}  // namespace dive::store
