#include "federation/instance_state.hpp"

#include "common/fs.hpp"
#include "federation/enrollment.hpp"
#include "policy/bundle_store.hpp"

namespace dive::federation {

FederationPaths FederationPaths::of(const fs::path& instance_dir) {
  FederationPaths p;
  p.dir = instance_dir / "federation";
  p.hub_json = p.dir / "hub.json";
  p.hub_ca = p.dir / "hub-ca.pem";
  p.bundle_key = p.dir / "bundle-key.pem";
  p.bundle_jws = p.dir / "bundle.jws";
  p.trust_pem = p.dir / "trust.pem";
  p.status_json = p.dir / "status.json";
  return p;
}

Json HubLink::to_json() const {
  return Json{{"hubUrl", hub_url},
              {"hubCode", hub_code},
              {"caFingerprint", ca_fingerprint},
              {"bundleKeyPem", bundle_key_pem},
              {"sameHome", same_home}};
}

HubLink HubLink::from_json(const Json& j) {
  if (!j.is_object()) throw std::invalid_argument("hub.json must be an object");
  HubLink l;
  l.hub_url = j.value("hubUrl", "");
  l.hub_code = j.value("hubCode", "");
  l.ca_fingerprint = j.value("caFingerprint", "");
  l.bundle_key_pem = j.value("bundleKeyPem", "");
  l.same_home = j.value("sameHome", false);
  if (l.hub_url.empty() || l.bundle_key_pem.empty())
    throw std::invalid_argument("hub.json lacks the hub URL or its bundle key");
  return l;
}

std::optional<HubLink> read_hub_link(const FederationPaths& p) {
  auto text = try_read_file(p.hub_json);
  if (!text) return std::nullopt;
  try {
    return HubLink::from_json(Json::parse(*text));
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot read " + p.hub_json.string() + ": " + e.what());
  }
}

void write_hub_link(const FederationPaths& p, const HubLink& link, const std::string& hub_ca_pem) {
  ensure_dir(p.dir, 0755);
  write_file_atomic(p.hub_ca, hub_ca_pem, 0644);
  write_file_atomic(p.hub_json, link.to_json().dump(2) + "\n", 0644);
}

TrustMember member_from_instance(const Json& cfg, const std::string& ca_pem, const std::string& kas_kid,
                                 const std::string& kas_public_pem) {
  TrustMember m;
  m.code = cfg.value("code", "");
  m.name = cfg.value("name", m.code);
  m.role = cfg.value("role", "spoke");
  m.issuer = cfg.value("issuer", "");
  m.jwks_url = m.issuer + "/protocol/openid-connect/certs";
  m.api_url = cfg["urls"].value("api", "");
  m.idp_url = cfg["urls"].value("idp", "");
  m.kas_url = cfg["urls"].value("kas", "");
  m.kas_kid = kas_kid;
  m.kas_public_key = kas_public_pem;
  m.ca_pem = ca_pem;
  m.allowed_countries = {m.code};
  return m;
}

Registration registration_from_instance(const Json& cfg, const std::string& ca_pem,
                                        const std::string& kas_kid, const std::string& kas_public_pem) {
  auto m = member_from_instance(cfg, ca_pem, kas_kid, kas_public_pem);
  Registration r;
  r.code = m.code;
  r.name = m.name;
  r.host = cfg.value("host", "");
  r.issuer = m.issuer;
  r.jwks_url = m.jwks_url;
  r.api_url = m.api_url;
  r.idp_url = m.idp_url;
  r.kas_url = m.kas_url;
  r.kas_kid = kas_kid;
  r.kas_public_key = kas_public_pem;
  r.ca_pem = ca_pem;
  return r;
}

std::string apply_bundle(pqxx::connection& c, const FederationPaths& p, const TrustBundle& b,
                         const std::string& jws, const std::string& own_ca_pem) {
  // The CA set first: a service that sees a newly trusted issuer can already fetch its keys.
  ensure_dir(p.dir, 0755);
  write_file_atomic(p.trust_pem, ca_set_pem(b, own_ca_pem), 0644);
  std::string rev =
      policy::store_bundle(c, policy_bundle_for(b.members), "federation:" + std::to_string(b.revision), true);
  write_file_atomic(p.bundle_jws, jws, 0644);
  return rev;
}

}  // namespace dive::federation
