#include "identity/idp/client.hpp"

#include <algorithm>

#include "common/encoding.hpp"
#include "identity/idp/idp_config.hpp"
#include "identity/log_safe.hpp"

namespace dive::identity::idp {

bool Client::allows_grant(const std::string& grant) const {
  return std::find(grant_types.begin(), grant_types.end(), grant) != grant_types.end();
}

namespace {
bool uri_matches(const std::vector<std::string>& registered, const std::string& uri) {
  if (uri.empty() || uri.size() > 2048) return false;
  if (uri.find('#') != std::string::npos || uri.find("..") != std::string::npos) return false;
  for (const auto& r : registered) {
    if (r == uri) return true;
    if (r.size() >= 2 && r.compare(r.size() - 2, 2, "/*") == 0) {
      std::string prefix = r.substr(0, r.size() - 1);  // keeps the '/'
      if (uri.size() > prefix.size() && uri.compare(0, prefix.size(), prefix) == 0 &&
          uri.find('@') == std::string::npos && uri.find('\\') == std::string::npos)
        return true;
    }
  }
  return false;
}
}  // namespace

bool Client::redirect_allowed(const std::string& uri) const {
  return uri_matches(redirect_uris, uri);
}

bool Client::post_logout_redirect_allowed(const std::string& uri) const {
  return uri_matches(post_logout_redirect_uris, uri);
}

std::vector<Client> default_clients(const IdpConfig& cfg) {
  std::vector<Client> out;
  out.push_back(Client{"dive-cli", false, "", {"password", "refresh_token"}, {}, {}, false});
  Client web{"dive-web",           false, "", {"authorization_code", "refresh_token"}, {cfg.api_url + "/*"},
             {cfg.api_url + "/*"}, false};
  for (const auto& console : cfg.console_urls) {
    web.redirect_uris.push_back(console + "/auth/callback");
    web.post_logout_redirect_uris.push_back(console + "/");
  }
  out.push_back(std::move(web));
  for (const char* id : {"dive-api", "dive-kas"}) {
    auto it = cfg.client_secrets.find(id);
    std::string hash = it == cfg.client_secrets.end() ? "" : sha256_hex(it->second);
    out.push_back(Client{id, true, hash, {"client_credentials", "refresh_token"}, {}, {}, true});
  }
  return out;
}

ClientAuthResult authenticate_client(const FormParams& form, const std::optional<std::string>& authorization,
                                     const ClientLookup& lookup) {
  ClientAuthResult r;
  std::string id, secret;
  bool has_secret = false;
  if (authorization && !authorization->empty()) {
    auto basic = parse_basic_auth(*authorization);
    if (!basic) {
      r.error = ClientAuthError::InvalidClient;
      r.used_basic = true;
      r.reason = "malformed Basic credentials";
      return r;
    }
    r.used_basic = true;
    if (form.has("client_secret")) {
      r.error = ClientAuthError::InvalidRequest;
      r.reason = "more than one client authentication method";
      return r;
    }
    if (form.has("client_id") && form.get("client_id") != basic->first) {
      r.error = ClientAuthError::InvalidRequest;
      r.reason = "client_id differs from the authenticated client";
      return r;
    }
    id = basic->first;
    secret = basic->second;
    has_secret = true;
  } else {
    id = form.get("client_id");
    has_secret = form.has("client_secret");
    secret = form.get("client_secret");
  }
  if (id.empty()) {
    r.error = ClientAuthError::InvalidClient;
    r.reason = "no client identification";
    return r;
  }
  auto client = lookup(id);
  // The same work is done whether or not the client exists.
  std::string presented = sha256_hex(secret);
  if (!client) {
    r.error = ClientAuthError::InvalidClient;
    r.reason = "unknown client " + log_safe(id, 40);
    return r;
  }
  if (client->confidential) {
    if (!has_secret || !constant_time_equal(presented, client->secret_sha256)) {
      r.error = ClientAuthError::InvalidClient;
      r.reason = "bad secret for client " + client->client_id;
      return r;
    }
  } else if (has_secret) {
    r.error = ClientAuthError::InvalidClient;
    r.reason = "public client " + client->client_id + " presented a secret";
    return r;
  }
  r.client = std::move(client);
  return r;
}

}  // namespace dive::identity::idp
