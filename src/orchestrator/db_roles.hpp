#pragma once
// Least privilege in the instance database (docs/SECURITY.md): each service connects as its own role
// (dive_api, dive_idp, dive_pdp, dive_kas) with only the grants it needs; the cluster superuser is left to
// the operator's CLI and to the supervisor, which applies the migrations and these grants when PostgreSQL
// becomes ready (services no longer change the schema).
//
//   api   documents; the public columns of kas_keys (never private_key_enc); policy bundles (a federated
//         instance applies the trust bundle's); the hub's federation registry; the revocation outbox; the
//         audit trail (read, and its retention's audit_prune)
//   idp   its users, clients, codes, refresh tokens and signing keys; the revocation outbox
//   pdp   policy bundles (read)
//   kas   kas_keys; policy bundles (read: the issuers it trusts); the revocation outbox
//   every service may append to the audit trail through its append functions (docs/AUDIT.md), nothing more
#include <map>
#include <string>
#include <vector>

#include <pqxx/connection>

namespace dive::orch {

// The services that get a role, and the role's name ("api" -> "dive_api").
const std::vector<std::string>& db_role_services();
std::string db_role_name(const std::string& service);

// Applies the instance migrations, creates (or re-passwords) each role of `passwords` (service -> password)
// and resets its grants to the table above. Idempotent; `conn` is the instance database as its owner.
void ensure_db_roles(pqxx::connection& conn, const std::map<std::string, std::string>& passwords);

}  // namespace dive::orch
