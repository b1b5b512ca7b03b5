#include "orchestrator/db_roles.hpp"

#include <pqxx/pqxx>

#include <stdexcept>

#include "store/embedded_migrations.hpp"
#include "store/migrations.hpp"

namespace dive::orch {

namespace {

constexpr int64_t kMigrationLock = 0x0D1E0002;  // the instance migrations' advisory lock

// The audit trail's append functions, the only way to write to it: audit_append (migration 008, still
// called by a process of the previous version during an upgrade), and the head and the append of records
// hashed by the writer (migration 009).
constexpr const char* kAuditAppend =
    "FUNCTION audit_append(bigint[], text[], text[], text[], text[], text[], text[], text[], text[], text[], "
    "text[]), audit_chain_head(), audit_append_chained(bigint, bytea, bigint[], text[], text[], text[], "
    "text[], "
    "text[], text[], text[], text[], text[], text[], bytea[])";

struct Grant {
  const char* privileges;
  const char* tables;
};

// What each service may do; every table not named here is out of its reach.
const std::map<std::string, std::vector<Grant>>& grants() {
  static const std::map<std::string, std::vector<Grant>> g{
      {"api",
       {{"SELECT, INSERT, UPDATE, DELETE", "resources"},
        {"SELECT (kid, public_pem, created_at, retired_at)", "kas_keys"},
        {"SELECT, INSERT, UPDATE, DELETE", "policy_bundles, policy_bundle_active"},
        {"SELECT, INSERT, UPDATE, DELETE",
         "federation_spokes, federation_enrollment_tokens, federation_audit, federation_bundles"},
        {"SELECT, INSERT, UPDATE, DELETE", "revocation_outbox"},
        // The audit trail: written only through its append functions (SECURITY DEFINER), read for GET
        // /api/admin/audit, pruned daily by the retention, full partitions sealed (docs/AUDIT.md). No
        // INSERT, UPDATE or DELETE.
        {"SELECT", "audit_events, audit_blocks, audit_head, audit_anchor, audit_partitions"},
        {"EXECUTE", kAuditAppend},
        {"EXECUTE", "FUNCTION audit_prune(integer, integer)"},
        {"EXECUTE", "FUNCTION audit_seal(), audit_drop_pruned()"}}},
      {"idp",
       {{"SELECT, INSERT, UPDATE, DELETE",
         "idp_users, idp_clients, idp_auth_codes, idp_refresh_tokens, idp_signing_keys"},
        {"SELECT, INSERT, UPDATE, DELETE", "revocation_outbox"},
        {"EXECUTE", kAuditAppend}}},
      {"pdp", {{"SELECT", "policy_bundles, policy_bundle_active"}, {"EXECUTE", kAuditAppend}}},
      {"kas",
       {{"SELECT, INSERT, UPDATE", "kas_keys"},
        {"SELECT", "policy_bundles, policy_bundle_active"},
        {"SELECT, INSERT, UPDATE, DELETE", "revocation_outbox"},
        {"EXECUTE", kAuditAppend}}},
  };
  return g;
}

}  // namespace

const std::vector<std::string>& db_role_services() {
  static const std::vector<std::string> s{"api", "idp", "pdp", "kas"};
  return s;
}

std::string db_role_name(const std::string& service) {
  return "dive_" + service;
}

void ensure_db_roles(pqxx::connection& conn, const std::map<std::string, std::string>& passwords) {
  store::apply_migrations(conn, store::instance_migrations(), kMigrationLock);
  pqxx::work tx(conn);
  // Serialised with other supervisors of this database (a restart racing a deploy).
  tx.exec("SELECT pg_advisory_xact_lock(4477110001)");
  for (const auto& [service, password] : passwords) {
    auto g = grants().find(service);
    if (g == grants().end()) throw std::invalid_argument("no database grants for service '" + service + "'");
    const std::string role = tx.quote_name(db_role_name(service));
    const bool exists =
        !tx.exec_params("SELECT 1 FROM pg_roles WHERE rolname = $1", db_role_name(service)).empty();
    // The password is a literal here (DDL takes no parameters): quoted by libpq, never logged.
    tx.exec((exists ? "ALTER ROLE " : "CREATE ROLE ") + role +
            " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS PASSWORD " +
            tx.quote(password));
    tx.exec("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM " + role);
    tx.exec("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM " + role);
    tx.exec("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM " + role);
    tx.exec("REVOKE CREATE ON SCHEMA public FROM " + role);
    tx.exec("GRANT USAGE ON SCHEMA public TO " + role);
    tx.exec("GRANT SELECT ON schema_migrations TO " + role);
    tx.exec("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO " + role);
    tx.exec("GRANT CONNECT ON DATABASE " + tx.quote_name(conn.dbname()) + " TO " + role);
    for (const auto& grant : g->second)
      tx.exec(std::string("GRANT ") + grant.privileges + " ON " + grant.tables + " TO " + role);
  }
  tx.commit();
}

}  // namespace dive::orch
