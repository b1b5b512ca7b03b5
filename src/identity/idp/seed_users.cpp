#include "identity/idp/seed_users.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "common/encoding.hpp"
#include "common/strings.hpp"
#include "identity/idp/totp_seed.hpp"
#include "identity/idp/user_store.hpp"

namespace dive::identity::idp {

namespace {

std::string md5_hex8(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), md, &len, EVP_md5(), nullptr) != 1) return "00000000";
  return hex_encode(std::string(reinterpret_cast<char*>(md), len)).substr(0, 8);
}

std::string substitute(std::string s, const std::string& code) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"<ccc>", to_lower(code)}, {"<CCC>", code}}) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
      s.replace(p, from.size(), to);
  }
  return s;
}

std::vector<std::string> strings(const Json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// The value for this seeder, else Terraform's, else `def`.
Json variant(const Json& j, const std::string& seeder, const Json& def) {
  if (!j.is_object()) return j.is_null() ? def : j;
  for (const std::string& k : {seeder, std::string("terraform")})
    if (j.contains(k) && !j[k].is_null()) return j[k];
  return def;
}

}  // namespace

std::vector<SeedAccount> seed_accounts(const Json& seed, const std::string& code,
                                       const std::string& instance_name) {
  const Json users = seed.value("users", Json());
  if (!users.is_object() || !users.contains("test_users"))
    throw std::runtime_error("seed.json has no users.test_users");
  const bool hub = code == "USA";
  const std::string seeder = hub ? "hub_script" : "spoke_script";
  std::vector<SeedAccount> out;
  for (const auto& t : users["test_users"]) {
    SeedAccount a;
    a.username = substitute(t.value("username", ""), code);
    a.attrs.unique_id = a.username;
    a.attrs.clearance = t.value("clearance", "UNCLASSIFIED");
    a.attrs.country = code;
    a.attrs.acp_coi = strings(variant(t["acpCOI"], seeder, Json::array()));
    a.attrs.organization_type = variant(t["organizationType"], seeder, "GOV").get<std::string>();
    a.attrs.duty_org = instance_name + " Defense";
    a.attrs.email = md5_hex8(a.username + "-" + code) + "@pseudonym.dive25.mil";
    a.attrs.roles = {"user"};
    out.push_back(std::move(a));
  }
  // The admin: the hub script's entry on the hub, Terraform's (it has the roles) on a spoke.
  for (const auto& ad : users.value("admin_users", Json::array())) {
    if (ad.value("seeder", "") != (hub ? "hub_script" : "terraform")) continue;
    SeedAccount a;
    a.kind = AccountKind::Admin;
    a.username = substitute(ad.value("username", ""), code);
    a.attrs.unique_id = a.username;
    a.attrs.clearance = ad.value("clearance", "TOP_SECRET");
    a.attrs.country = code;
    a.attrs.acp_coi = strings(ad["acpCOI"]);
    a.attrs.organization_type = ad.value("organizationType", "GOV");
    a.attrs.duty_org = instance_name + " Admin";
    a.attrs.first_name = ad.value("firstName", "");
    a.attrs.last_name = ad.value("lastName", "");
    a.attrs.email = md5_hex8(a.username + "-" + code) + "@admin.dive25.mil";
    a.attrs.roles = {"user", "admin", "super_admin"};
    out.push_back(std::move(a));
  }
  for (const auto& in : users.value("industry_users", Json::array())) {
    if (in.value("country", "") != code) continue;
    SeedAccount a;
    a.kind = AccountKind::Industry;
    a.username = to_lower(in.value("username", ""));
    a.attrs.unique_id = a.username;
    a.attrs.clearance = in.value("clearance", "UNCLASSIFIED");
    a.attrs.country = code;
    a.attrs.acp_coi = strings(in["acpCOI"]);
    a.attrs.organization_type = in.value("organizationType", "INDUSTRY");
    a.attrs.duty_org = in.value("organization", "");
    a.attrs.email = in.value("email", "");
    a.attrs.roles = {"user"};
    out.push_back(std::move(a));
  }
  return out;
}

int seed_realm(pqxx::connection& c, const std::vector<SeedAccount>& accounts, const SeedSecrets& secrets,
               const Argon2Params& argon2) {
  int inserted = 0;
  for (const auto& a : accounts) {
    if (find_user_by_username(c, a.username)) continue;  // skip the argon2 cost for existing users
    User u;
    u.username = a.username;
    u.attrs = a.attrs;
    u.password_hash = hash_password(
        a.kind == AccountKind::Admin ? secrets.admin_password : secrets.test_user_password, argon2);
    u.totp_secret_enc = encrypt_totp_seed(new_totp_seed(), secrets.kek, a.username);
    if (insert_user_if_absent(c, u)) ++inserted;
  }
  return inserted;
}

}  // namespace dive::identity::idp
