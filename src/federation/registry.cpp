#include "federation/registry.hpp"

#include <algorithm>
#include <array>
#include <pqxx/pqxx>
#include <stdexcept>

#include "common/strings.hpp"
#include "federation/enrollment.hpp"

namespace dive::federation {

using Clock = std::chrono::system_clock;

const char* to_string(SpokeStatus s) {
  switch (s) {
    case SpokeStatus::Pending:
      return "pending";
    case SpokeStatus::Approved:
      return "approved";
    case SpokeStatus::Suspended:
      return "suspended";
    case SpokeStatus::Revoked:
      return "revoked";
  }
  return "?";
}

std::optional<SpokeStatus> parse_status(std::string_view s) {
  for (auto v : {SpokeStatus::Pending, SpokeStatus::Approved, SpokeStatus::Suspended, SpokeStatus::Revoked})
    if (s == to_string(v)) return v;
  return std::nullopt;
}

const char* to_string(Action a) {
  switch (a) {
    case Action::Approve:
      return "approve";
    case Action::Suspend:
      return "suspend";
    case Action::Reinstate:
      return "reinstate";
    case Action::Revoke:
      return "revoke";
    case Action::Rotate:
      return "rotate";
  }
  return "?";
}

std::optional<SpokeStatus> next_status(SpokeStatus from, Action a) {
  if (from == SpokeStatus::Revoked) return std::nullopt;
  switch (a) {
    case Action::Approve:
      return from == SpokeStatus::Pending ? std::optional(SpokeStatus::Approved) : std::nullopt;
    case Action::Suspend:
      return from == SpokeStatus::Approved ? std::optional(SpokeStatus::Suspended) : std::nullopt;
    case Action::Reinstate:
      return from == SpokeStatus::Suspended ? std::optional(SpokeStatus::Approved) : std::nullopt;
    case Action::Revoke:
      return SpokeStatus::Revoked;
    case Action::Rotate:
      return from;
  }
  return std::nullopt;
}

bool valid_trust_level(std::string_view level) {
  return level == "HIGH" || level == "MEDIUM" || level == "LOW" || level == "DEVELOPMENT";
}

bool valid_classification(std::string_view level) {
  return level == "UNCLASSIFIED" || level == "RESTRICTED" || level == "CONFIDENTIAL" || level == "SECRET" ||
         level == "TOP_SECRET";
}

const char* to_string(RegisterOutcome o) {
  switch (o) {
    case RegisterOutcome::Approved:
      return "approved";
    case RegisterOutcome::Pending:
      return "pending";
    case RegisterOutcome::TokenUnknown:
      return "token_unknown";
    case RegisterOutcome::TokenUsed:
      return "token_used";
    case RegisterOutcome::TokenExpired:
      return "token_expired";
    case RegisterOutcome::AlreadyEnrolled:
      return "already_enrolled";
    case RegisterOutcome::Revoked:
      return "revoked";
  }
  return "?";
}

// ---------------------------------------------------------------- Registration

Json Registration::to_json() const {
  return Json{{"code", code},        {"name", name},
              {"host", host},        {"issuer", issuer},
              {"jwksUrl", jwks_url}, {"apiUrl", api_url},
              {"idpUrl", idp_url},   {"kasUrl", kas_url},
              {"kasKid", kas_kid},   {"kasPublicKey", kas_public_key},
              {"caPem", ca_pem}};
}

Registration Registration::from_json(const Json& j) {
  if (!j.is_object()) throw std::invalid_argument("the registration must be a JSON object");
  auto str = [&](const char* k, bool required, size_t max = 2048) {
    if (!j.contains(k) || j[k].is_null()) {
      if (required) throw std::invalid_argument(std::string("'") + k + "' is required");
      return std::string();
    }
    if (!j[k].is_string()) throw std::invalid_argument(std::string("'") + k + "' must be a string");
    auto v = j[k].get<std::string>();
    if (v.size() > max) throw std::invalid_argument(std::string("'") + k + "' is too long");
    return v;
  };
  Registration r;
  r.code = str("code", true, 3);
  if (!valid_code(r.code)) throw std::invalid_argument("'code' must be three upper-case letters (ISO 3166)");
  r.name = str("name", false, 200);
  r.host = str("host", false, 253);
  r.issuer = str("issuer", true);
  r.jwks_url = str("jwksUrl", true);
  r.api_url = str("apiUrl", true);
  r.idp_url = str("idpUrl", true);
  r.kas_url = str("kasUrl", true);
  for (const auto* u : {&r.issuer, &r.jwks_url, &r.api_url, &r.idp_url, &r.kas_url})
    if (u->rfind("https://", 0) != 0)
      throw std::invalid_argument("every URL of a registration must be https");
  r.kas_kid = str("kasKid", false, 256);
  r.kas_public_key = str("kasPublicKey", false, 8192);
  r.ca_pem = str("caPem", true, 16384);
  fingerprint_of_pem(r.ca_pem);  // throws EnrollmentError (an invalid_argument) when it holds no certificate
  return r;
}

// ---------------------------------------------------------------- records

bool SpokeRecord::stale(Clock::time_point now, std::chrono::milliseconds interval) const {
  if (status != SpokeStatus::Approved) return false;
  auto since = last_heartbeat.value_or(updated_at);
  return now - since > 3 * interval;
}

namespace {
int64_t to_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
Clock::time_point from_ms(int64_t ms) {
  return Clock::time_point(std::chrono::milliseconds(ms));
}
}  // namespace

Json SpokeRecord::to_json(Clock::time_point now, std::chrono::milliseconds interval) const {
  Json j = reg.to_json();
  j.erase("kasPublicKey");
  j.erase("caPem");
  j["status"] = to_string(status);
  j["source"] = source;
  j["allowedCountries"] = allowed_countries;
  j["trustLevel"] = trust_level;
  j["maxClassification"] = max_classification;
  j["lastHeartbeatMs"] = last_heartbeat ? Json(to_ms(*last_heartbeat)) : Json(nullptr);
  j["heartbeatAgeMs"] =
      last_heartbeat
          ? Json(std::chrono::duration_cast<std::chrono::milliseconds>(now - *last_heartbeat).count())
          : Json(nullptr);
  j["stale"] = stale(now, interval);
  j["bundleRevision"] = bundle_revision;
  j["health"] = heartbeat.is_object() ? heartbeat.value("status", Json(nullptr)) : Json(nullptr);
  j["registeredAtMs"] = to_ms(registered_at);
  j["updatedAtMs"] = to_ms(updated_at);
  return j;
}

namespace {

constexpr const char* kSelect =
    "SELECT code, status, source, name, host, issuer, jwks_url, api_url, idp_url, kas_url, kas_kid, "
    "kas_public_key, ca_pem, array_to_string(allowed_countries, ','), trust_level, max_classification, "
    "(extract(epoch FROM last_heartbeat) * 1000)::bigint, heartbeat::text, bundle_revision, "
    "(extract(epoch FROM registered_at) * 1000)::bigint, (extract(epoch FROM updated_at) * 1000)::bigint "
    "FROM federation_spokes";

SpokeRecord row_to_record(const pqxx::row& r) {
  SpokeRecord s;
  s.reg.code = r[0].as<std::string>();
  s.status = parse_status(r[1].as<std::string>()).value_or(SpokeStatus::Pending);
  s.source = r[2].as<std::string>();
  s.reg.name = r[3].as<std::string>();
  s.reg.host = r[4].as<std::string>();
  s.reg.issuer = r[5].as<std::string>();
  s.reg.jwks_url = r[6].as<std::string>();
  s.reg.api_url = r[7].as<std::string>();
  s.reg.idp_url = r[8].as<std::string>();
  s.reg.kas_url = r[9].as<std::string>();
  s.reg.kas_kid = r[10].as<std::string>();
  s.reg.kas_public_key = r[11].as<std::string>();
  s.reg.ca_pem = r[12].as<std::string>();
  for (auto& c : split(r[13].as<std::string>(), ',')) s.allowed_countries.push_back(c);
  s.trust_level = r[14].as<std::string>();
  s.max_classification = r[15].as<std::string>();
  if (!r[16].is_null()) s.last_heartbeat = from_ms(r[16].as<int64_t>());
  s.heartbeat = Json::parse(r[17].as<std::string>());
  s.bundle_revision = r[18].as<int64_t>();
  s.registered_at = from_ms(r[19].as<int64_t>());
  s.updated_at = from_ms(r[20].as<int64_t>());
  return s;
}

void audit(pqxx::work& tx, const std::string& code, const std::string& action, const std::string& actor,
           std::optional<SpokeStatus> from, std::optional<SpokeStatus> to,
           const Json& detail = Json::object()) {
  tx.exec_params(
      "INSERT INTO federation_audit (code, action, actor, from_status, to_status, detail) "
      "VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
      code, action, actor, from ? std::optional<std::string>(to_string(*from)) : std::nullopt,
      to ? std::optional<std::string>(to_string(*to)) : std::nullopt, detail.dump());
}

std::optional<SpokeRecord> find_in(pqxx::work& tx, const std::string& code, bool for_update) {
  auto rows =
      tx.exec_params(std::string(kSelect) + " WHERE code = $1" + (for_update ? " FOR UPDATE" : ""), code);
  if (rows.empty()) return std::nullopt;
  return row_to_record(rows[0]);
}

// Inserts or updates the registration fields (status, caps and credential as given).
void upsert(pqxx::work& tx, const Registration& reg, SpokeStatus status, const std::string& source,
            const std::string& trust, const std::string& cap, const std::string& credential_hash) {
  tx.exec_params(
      "INSERT INTO federation_spokes (code, status, source, name, host, issuer, jwks_url, api_url, idp_url, "
      "kas_url, kas_kid, kas_public_key, ca_pem, allowed_countries, trust_level, max_classification, "
      "credential_hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,ARRAY[$1],$14,$15,$16) "
      "ON CONFLICT (code) DO UPDATE SET status = $2, source = $3, name = $4, host = $5, issuer = $6, "
      "jwks_url = $7, api_url = $8, idp_url = $9, kas_url = $10, kas_kid = $11, kas_public_key = $12, "
      "ca_pem = $13, trust_level = $14, max_classification = $15, credential_hash = $16, "
      "updated_at = clock_timestamp()",
      reg.code, to_string(status), source, reg.name, reg.host, reg.issuer, reg.jwks_url, reg.api_url,
      reg.idp_url, reg.kas_url, reg.kas_kid, reg.kas_public_key, reg.ca_pem, trust, cap, credential_hash);
}

}  // namespace

bool create_enrollment_token(pqxx::connection& c, const TokenOptions& o, const std::string& secret,
                             std::string* why) {
  pqxx::work tx(c);
  if (auto existing = find_in(tx, o.code, false)) {
    if (existing->status == SpokeStatus::Revoked) {
      if (why) *why = o.code + " was revoked; a revoked code is not enrolled again";
      return false;
    }
    if (existing->status != SpokeStatus::Pending) {
      if (why)
        *why = o.code + " is already enrolled (" + to_string(existing->status) +
               "); rotate its credential with ./dive hub spokes rotate " + o.code;
      return false;
    }
  }
  tx.exec_params(
      "INSERT INTO federation_enrollment_tokens (token_hash, code, max_classification, trust_level, "
      "created_by, expires_at) VALUES ($1, $2, $3, $4, $5, clock_timestamp() + make_interval(secs => $6))",
      hash_secret(secret), o.code, o.max_classification, o.trust_level, o.actor,
      static_cast<double>(o.ttl.count()));
  audit(tx, o.code, "enroll-token", o.actor, std::nullopt, std::nullopt,
        Json{{"ttlSeconds", o.ttl.count()},
             {"maxClassification", o.max_classification},
             {"trustLevel", o.trust_level}});
  tx.commit();
  return true;
}

RegisterResult register_spoke(pqxx::connection& c, const Registration& reg, const std::string& token_secret,
                              const std::string& actor, const std::string& new_credential) {
  RegisterResult res;
  pqxx::work tx(c);
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('federation:' || $1))", reg.code);
  auto existing = find_in(tx, reg.code, true);
  if (existing && existing->status == SpokeStatus::Revoked) {
    res.outcome = RegisterOutcome::Revoked;
    audit(tx, reg.code, "register-refused", actor, existing->status, std::nullopt,
          Json{{"reason", "revoked"}});
    tx.commit();
    return res;
  }
  std::string trust = kDefaultTrustLevel, cap = kDefaultMaxClassification;
  if (!token_secret.empty()) {
    auto rows = tx.exec_params(
        "SELECT code, used_at IS NOT NULL, expires_at < clock_timestamp(), max_classification, trust_level "
        "FROM federation_enrollment_tokens WHERE token_hash = $1 FOR UPDATE",
        hash_secret(token_secret));
    auto refuse = [&](RegisterOutcome o) {
      res.outcome = o;
      audit(tx, reg.code, "register-refused", actor,
            existing ? std::optional(existing->status) : std::nullopt, std::nullopt,
            Json{{"reason", to_string(o)}});
      tx.commit();
      return res;
    };
    if (rows.empty() || rows[0][0].as<std::string>() != reg.code)
      return refuse(RegisterOutcome::TokenUnknown);
    if (rows[0][1].as<bool>()) return refuse(RegisterOutcome::TokenUsed);
    if (rows[0][2].as<bool>()) return refuse(RegisterOutcome::TokenExpired);
    if (existing && existing->status != SpokeStatus::Pending) return refuse(RegisterOutcome::AlreadyEnrolled);
    cap = rows[0][3].as<std::string>();
    trust = rows[0][4].as<std::string>();
    tx.exec_params(
        "UPDATE federation_enrollment_tokens SET used_at = clock_timestamp() WHERE token_hash = $1",
        hash_secret(token_secret));
    upsert(tx, reg, SpokeStatus::Approved, "remote", trust, cap, hash_secret(new_credential));
    audit(tx, reg.code, "register", actor, existing ? std::optional(existing->status) : std::nullopt,
          SpokeStatus::Approved, Json{{"by", "token"}, {"host", reg.host}, {"issuer", reg.issuer}});
    res.outcome = RegisterOutcome::Approved;
    res.status = SpokeStatus::Approved;
  } else {
    if (existing && existing->status != SpokeStatus::Pending) {
      res.outcome = RegisterOutcome::AlreadyEnrolled;
      audit(tx, reg.code, "register-refused", actor, existing->status, std::nullopt,
            Json{{"reason", "already_enrolled"}});
      tx.commit();
      return res;
    }
    upsert(tx, reg, SpokeStatus::Pending, "remote", trust, cap, hash_secret(new_credential));
    audit(tx, reg.code, "register", actor, existing ? std::optional(existing->status) : std::nullopt,
          SpokeStatus::Pending, Json{{"by", "request"}, {"host", reg.host}, {"issuer", reg.issuer}});
    res.outcome = RegisterOutcome::Pending;
    res.status = SpokeStatus::Pending;
  }
  tx.commit();
  res.credential = new_credential;
  return res;
}

void register_local_spoke(pqxx::connection& c, const Registration& reg, const std::string& credential_hash) {
  pqxx::work tx(c);
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('federation:' || $1))", reg.code);
  auto existing = find_in(tx, reg.code, true);
  // A local spoke keeps an operator's decisions (suspended, caps); a revoked code stays revoked.
  SpokeStatus status = existing ? existing->status : SpokeStatus::Approved;
  if (status == SpokeStatus::Pending) status = SpokeStatus::Approved;
  upsert(tx, reg, status, "local", existing ? existing->trust_level : kDefaultTrustLevel,
         existing ? existing->max_classification : kDefaultMaxClassification, credential_hash);
  if (!existing || existing->status != status || existing->reg.issuer != reg.issuer ||
      existing->reg.api_url != reg.api_url)
    audit(tx, reg.code, "register-local", "deploy", existing ? std::optional(existing->status) : std::nullopt,
          status, Json{{"host", reg.host}, {"issuer", reg.issuer}});
  tx.commit();
}

bool remove_local_spoke(pqxx::connection& c, const std::string& code, const std::string& actor) {
  pqxx::work tx(c);
  auto rows = tx.exec_params(
      "DELETE FROM federation_spokes WHERE code = $1 AND source = 'local' RETURNING status", code);
  if (rows.empty()) return false;
  audit(tx, code, "remove", actor, parse_status(rows[0][0].as<std::string>()), std::nullopt,
        Json{{"reason", "the instance was removed from the hub's home"}});
  tx.commit();
  return true;
}

ChangeResult change_spoke(pqxx::connection& c, const std::string& code, Action a, const ChangeOptions& o,
                          const std::string& new_credential) {
  ChangeResult res;
  pqxx::work tx(c);
  auto existing = find_in(tx, code, true);
  if (!existing) return res;
  res.from = existing->status;
  auto to = next_status(existing->status, a);
  if (!to) {
    res.outcome = ChangeOutcome::NotAllowed;
    return res;
  }
  res.to = *to;
  Json detail = Json::object();
  if (!o.reason.empty()) detail["reason"] = o.reason;
  tx.exec_params("UPDATE federation_spokes SET status = $2, updated_at = clock_timestamp() WHERE code = $1",
                 code, to_string(*to));
  if (a == Action::Approve) {
    if (o.max_classification) {
      tx.exec_params("UPDATE federation_spokes SET max_classification = $2 WHERE code = $1", code,
                     *o.max_classification);
      detail["maxClassification"] = *o.max_classification;
    }
    if (o.trust_level) {
      tx.exec_params("UPDATE federation_spokes SET trust_level = $2 WHERE code = $1", code, *o.trust_level);
      detail["trustLevel"] = *o.trust_level;
    }
  }
  if (a == Action::Rotate || a == Action::Revoke) {
    // Revoked: the credential is replaced by one nobody holds.
    tx.exec_params("UPDATE federation_spokes SET credential_hash = $2 WHERE code = $1", code,
                   hash_secret(new_credential));
    if (a == Action::Rotate) res.credential = new_credential;
  }
  audit(tx, code, to_string(a), o.actor, existing->status, *to, detail);
  tx.commit();
  res.outcome = ChangeOutcome::Done;
  return res;
}

std::optional<SpokeRecord> authenticate_spoke(pqxx::connection& c, const std::string& code,
                                              const std::string& secret) {
  pqxx::read_transaction tx(c);
  auto rows = tx.exec_params("SELECT credential_hash FROM federation_spokes WHERE code = $1", code);
  if (rows.empty()) return std::nullopt;
  std::string want = rows[0][0].as<std::string>();
  std::string got = hash_secret(secret);
  if (want.size() != got.size()) return std::nullopt;
  unsigned char diff = 0;
  for (size_t i = 0; i < want.size(); ++i) diff |= static_cast<unsigned char>(want[i] ^ got[i]);
  if (diff != 0) return std::nullopt;
  auto r = tx.exec_params(std::string(kSelect) + " WHERE code = $1", code);
  if (r.empty()) return std::nullopt;
  return row_to_record(r[0]);
}

std::optional<SpokeStatus> record_heartbeat(pqxx::connection& c, const std::string& code, const Json& body,
                                            int64_t bundle_revision) {
  pqxx::work tx(c);
  auto rows = tx.exec_params(
      "UPDATE federation_spokes SET last_heartbeat = clock_timestamp(), heartbeat = $2::jsonb, "
      "bundle_revision = $3 WHERE code = $1 AND status IN ('approved', 'suspended') RETURNING status",
      code, body.dump(), bundle_revision);
  tx.commit();
  if (rows.empty()) return std::nullopt;
  return parse_status(rows[0][0].as<std::string>());
}

std::vector<SpokeRecord> list_spokes(pqxx::connection& c) {
  pqxx::read_transaction tx(c);
  std::vector<SpokeRecord> out;
  for (const auto& r : tx.exec(std::string(kSelect) + " ORDER BY code")) out.push_back(row_to_record(r));
  return out;
}

Json audit_log(pqxx::connection& c, const std::string& code, int limit) {
  pqxx::read_transaction tx(c);
  Json out = Json::array();
  for (const auto& r : tx.exec_params(
           "SELECT (extract(epoch FROM at) * 1000)::bigint, code, action, actor, from_status, to_status, "
           "detail::text FROM federation_audit WHERE ($1 = '' OR code = $1) ORDER BY id DESC LIMIT $2",
           code, limit))
    out.push_back(Json{{"atMs", r[0].as<int64_t>()},
                       {"code", r[1].as<std::string>()},
                       {"action", r[2].as<std::string>()},
                       {"actor", r[3].as<std::string>()},
                       {"from", r[4].is_null() ? Json(nullptr) : Json(r[4].as<std::string>())},
                       {"to", r[5].is_null() ? Json(nullptr) : Json(r[5].as<std::string>())},
                       {"detail", Json::parse(r[6].as<std::string>())}});
  return out;
}

}  // namespace dive::federation
