#include "federation/trust_bundle.hpp"

#include <algorithm>
#include <chrono>
#include <pqxx/pqxx>
#include <set>

#include "common/encoding.hpp"
#include "identity/jws.hpp"
#include "identity/keys.hpp"

namespace dive::federation {

namespace {
std::string req_str(const Json& j, const char* k) {
  if (!j.contains(k) || !j[k].is_string())
    throw std::invalid_argument(std::string("member lacks '") + k + "'");
  return j[k].get<std::string>();
}
}  // namespace

Json TrustMember::to_json() const {
  return Json{{"code", code},
              {"name", name},
              {"role", role},
              {"issuer", issuer},
              {"jwksUrl", jwks_url},
              {"apiUrl", api_url},
              {"idpUrl", idp_url},
              {"kasUrl", kas_url},
              {"kasKid", kas_kid},
              {"kasPublicKey", kas_public_key},
              {"caPem", ca_pem},
              {"allowedCountries", allowed_countries},
              {"trustLevel", trust_level},
              {"maxClassification", max_classification}};
}

TrustMember TrustMember::from_json(const Json& j) {
  if (!j.is_object()) throw std::invalid_argument("a member must be an object");
  TrustMember m;
  m.code = req_str(j, "code");
  m.name = j.value("name", "");
  m.role = req_str(j, "role");
  m.issuer = req_str(j, "issuer");
  m.jwks_url = req_str(j, "jwksUrl");
  m.api_url = req_str(j, "apiUrl");
  m.idp_url = j.value("idpUrl", "");
  m.kas_url = req_str(j, "kasUrl");
  m.kas_kid = j.value("kasKid", "");
  m.kas_public_key = j.value("kasPublicKey", "");
  m.ca_pem = j.value("caPem", "");
  if (!j.contains("allowedCountries") || !j["allowedCountries"].is_array())
    throw std::invalid_argument("member lacks 'allowedCountries'");
  for (const auto& c : j["allowedCountries"])
    if (c.is_string()) m.allowed_countries.push_back(c.get<std::string>());
  m.trust_level = j.value("trustLevel", kDefaultTrustLevel);
  m.max_classification = j.value("maxClassification", kDefaultMaxClassification);
  if (!valid_classification(m.max_classification))
    throw std::invalid_argument("member " + m.code + " has an unknown classification cap");
  return m;
}

TrustMember TrustMember::from_record(const SpokeRecord& r) {
  TrustMember m;
  m.code = r.reg.code;
  m.name = r.reg.name;
  m.role = "spoke";
  m.issuer = r.reg.issuer;
  m.jwks_url = r.reg.jwks_url;
  m.api_url = r.reg.api_url;
  m.idp_url = r.reg.idp_url;
  m.kas_url = r.reg.kas_url;
  m.kas_kid = r.reg.kas_kid;
  m.kas_public_key = r.reg.kas_public_key;
  m.ca_pem = r.reg.ca_pem;
  m.allowed_countries = r.allowed_countries;
  m.trust_level = r.trust_level;
  m.max_classification = r.max_classification;
  return m;
}

Json TrustBundle::to_json() const {
  Json ms = Json::array();
  for (const auto& m : members) ms.push_back(m.to_json());
  return Json{{"revision", revision},       {"hub", hub},    {"iat", issued_at_ms / 1000},
              {"issuedAtMs", issued_at_ms}, {"members", ms}, {"suspended", suspended}};
}

TrustBundle TrustBundle::from_json(const Json& j) {
  if (!j.is_object()) throw std::invalid_argument("the bundle must be an object");
  TrustBundle b;
  if (!j.contains("revision") || !j["revision"].is_number_integer())
    throw std::invalid_argument("the bundle has no revision");
  b.revision = j["revision"].get<int64_t>();
  b.hub = j.value("hub", "");
  b.issued_at_ms = j.value("issuedAtMs", int64_t{0});
  if (!j.contains("members") || !j["members"].is_array())
    throw std::invalid_argument("the bundle has no members");
  for (const auto& m : j["members"]) b.members.push_back(TrustMember::from_json(m));
  if (j.contains("suspended") && j["suspended"].is_array())
    for (const auto& c : j["suspended"])
      if (c.is_string()) b.suspended.push_back(c.get<std::string>());
  return b;
}

const TrustMember* TrustBundle::member(const std::string& code) const {
  for (const auto& m : members)
    if (m.code == code) return &m;
  return nullptr;
}

bool TrustBundle::same_content(const TrustBundle& other) const {
  Json a = to_json(), b = other.to_json();
  for (Json* x : {&a, &b}) {
    x->erase("revision");
    x->erase("iat");
    x->erase("issuedAtMs");
  }
  return a == b;
}

std::string sign_bundle(const TrustBundle& b, const identity::SigningKey& key) {
  return identity::sign(Json{{"typ", kBundleJwsType}}, b.to_json().dump(), key);
}

const char* to_string(VerifyOutcome o) {
  switch (o) {
    case VerifyOutcome::Ok:
      return "ok";
    case VerifyOutcome::Malformed:
      return "malformed";
    case VerifyOutcome::BadSignature:
      return "bad_signature";
    case VerifyOutcome::WrongType:
      return "wrong_type";
  }
  return "?";
}

VerifiedBundle verify_bundle(std::string_view jws, const identity::VerifyKey& key) {
  VerifiedBundle out;
  identity::CompactJws parsed;
  try {
    parsed = identity::parse_compact(jws);
  } catch (const std::exception& e) {
    out.error = std::string("not a compact JWS: ") + e.what();
    return out;
  }
  if (parsed.header.value("typ", "") != kBundleJwsType) {
    out.outcome = VerifyOutcome::WrongType;
    out.error = "not a DIVE trust bundle (typ)";
    return out;
  }
  if (!identity::verify_signature(parsed, key)) {
    out.outcome = VerifyOutcome::BadSignature;
    out.error = "the signature does not verify with the hub's bundle key";
    return out;
  }
  try {
    out.bundle = TrustBundle::from_json(identity::parse_jose_json(parsed.payload, 16));
  } catch (const std::exception& e) {
    out.outcome = VerifyOutcome::Malformed;
    out.error = std::string("signed, but not a valid bundle: ") + e.what();
    return out;
  }
  out.outcome = VerifyOutcome::Ok;
  return out;
}

Json policy_bundle_for(const std::vector<TrustMember>& members) {
  Json issuers = Json::object();
  Json matrix = Json::object();
  for (const auto& m : members) {
    issuers[m.issuer] = Json{{"tenant", m.code},
                             {"name", m.name.empty() ? m.code : m.name},
                             {"country", m.code},
                             {"trust_level", m.trust_level},
                             {"allowed_countries", m.allowed_countries},
                             {"max_classification", m.max_classification}};
    Json others = Json::array();
    for (const auto& o : members)
      if (o.code != m.code) others.push_back(o.code);
    matrix[m.code] = others;
  }
  return Json{{"about",
               "DIVE federation bundle: the trusted issuers and federation matrix of the approved "
               "instances; built-in tables otherwise"},
              {"trusted_issuers", issuers},
              {"federation_matrix", matrix}};
}

std::string ca_set_pem(const TrustBundle& b, const std::string& own_ca_pem) {
  std::string out = own_ca_pem;
  std::set<std::string> seen{own_ca_pem};
  for (const auto& m : b.members) {
    if (m.ca_pem.empty() || !seen.insert(m.ca_pem).second) continue;
    if (!out.empty() && out.back() != '\n') out.push_back('\n');
    out += m.ca_pem;
  }
  return out;
}

TrustBundle bundle_from_registry(const TrustMember& hub, const std::vector<SpokeRecord>& spokes) {
  TrustBundle b;
  b.hub = hub.code;
  b.members.push_back(hub);
  for (const auto& s : spokes)
    if (s.status == SpokeStatus::Approved && s.reg.code != hub.code)
      b.members.push_back(TrustMember::from_record(s));
  for (const auto& s : spokes)
    if (s.status == SpokeStatus::Suspended) b.suspended.push_back(s.reg.code);
  return b;
}

std::optional<StoredJws> latest_bundle(pqxx::connection& c) {
  pqxx::read_transaction tx(c);
  auto r = tx.exec("SELECT revision, jws FROM federation_bundles ORDER BY revision DESC LIMIT 1");
  if (r.empty()) return std::nullopt;
  return StoredJws{r[0][0].as<int64_t>(), r[0][1].as<std::string>()};
}

Published publish_bundle(pqxx::connection& c, TrustBundle b, const identity::SigningKey& key) {
  pqxx::work tx(c);
  tx.exec("SELECT pg_advisory_xact_lock(hashtext('federation:bundle'))");
  Json content = b.to_json();
  content.erase("revision");
  content.erase("iat");
  content.erase("issuedAtMs");
  const std::string digest = sha256_hex(content.dump());
  auto last =
      tx.exec("SELECT revision, content_sha256 FROM federation_bundles ORDER BY revision DESC LIMIT 1");
  if (!last.empty() && last[0][1].as<std::string>() == digest)
    return Published{last[0][0].as<int64_t>(), false};
  b.revision = last.empty() ? 1 : last[0][0].as<int64_t>() + 1;
  b.issued_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  tx.exec_params("INSERT INTO federation_bundles (revision, jws, content_sha256) VALUES ($1, $2, $3)",
                 b.revision, sign_bundle(b, key), digest);
  tx.commit();
  return Published{b.revision, true};
}

}  // namespace dive::federation
