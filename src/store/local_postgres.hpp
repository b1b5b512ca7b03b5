#pragma once
// A PostgreSQL 15 cluster that we own: initdb into a directory, the argv to run the server in the
// foreground (for the supervisor or a test harness), readiness probing and database creation.
// PostgreSQL refuses to run as root: when we are root, the cluster belongs to the `postgres` system
// user and its processes are started as that user.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dive::store {

struct RunAs {
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::string user;  // for messages
};

// Who runs PostgreSQL: ourselves, or (when we are root) the `postgres` system user.
// Throws std::runtime_error when root and no `postgres` user exists.
RunAs postgres_run_as();

struct PgClusterSpec {
  std::filesystem::path data_dir;
  uint16_t port = 5432;
  std::string superuser = "dive";
  std::string password;
  bool fast_unsafe = false;  // fsync off: for tests only, never for a deployment
  std::string shared_buffers = "32MB";
  int max_connections = 100;
};

std::string pg_bin_dir();                      // /usr/lib/postgresql/15/bin (or DIVE_PG_BIN)
std::string pg_tool(const std::string& name);  // full path of initdb, postgres, pg_ctl ...

// Every directory from `p` up to / must be searchable by `who`; throws with the fix when not.
void check_traversable(const std::filesystem::path& p, const RunAs& who);

// initdb (when the directory holds no cluster yet) with scram-sha-256 password auth on loopback only,
// then writes our settings (port, listen address, no unix socket). Idempotent.
void pg_init_cluster(const PgClusterSpec& spec, const RunAs& who, std::chrono::milliseconds timeout);

// argv that runs the server in the foreground.
std::vector<std::string> pg_server_argv(const PgClusterSpec& spec);

// True when a connection with these credentials succeeds (database "postgres").
bool pg_accepts(const std::string& host, uint16_t port, const std::string& user, const std::string& password,
                std::chrono::milliseconds timeout);
// CREATE DATABASE for each name that does not exist yet. Throws on connection or SQL errors.
void pg_ensure_databases(const std::string& host, uint16_t port, const std::string& user,
                         const std::string& password, const std::vector<std::string>& names);

// A libpq connection string with every value quoted.
std::string pg_conninfo(const std::string& host, uint16_t port, const std::string& db,
                        const std::string& user, const std::string& password, int connect_timeout_s = 3);

}  // namespace dive::store
