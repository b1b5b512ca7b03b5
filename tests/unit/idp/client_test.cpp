#include <gtest/gtest.h>

#include "common/encoding.hpp"
#include "identity/idp/client.hpp"
#include "identity/idp/idp_config.hpp"

using namespace dive;
using namespace dive::identity::idp;

namespace {
IdpConfig config() {
  IdpConfig c;
  c.api_url = "https://localhost:4000";
  c.client_secrets = {{"dive-api", "api-secret"}, {"dive-kas", "kas-secret"}};
  return c;
}

ClientLookup lookup() {
  auto clients = std::make_shared<std::vector<Client>>(default_clients(config()));
  return [clients](const std::string& id) -> std::optional<Client> {
    for (const auto& c : *clients)
      if (c.client_id == id) return c;
    return std::nullopt;
  };
}

std::string basic(const std::string& id, const std::string& secret) {
  return "Basic " + base64_encode(id + ":" + secret);
}
}  // namespace

TEST(Clients, TheFourClientsOfARealm) {
  auto cs = default_clients(config());
  ASSERT_EQ(cs.size(), 4u);
  EXPECT_EQ(cs[0].client_id, "dive-cli");
  EXPECT_FALSE(cs[0].confidential);
  EXPECT_TRUE(cs[0].allows_grant("password"));
  EXPECT_FALSE(cs[0].allows_grant("client_credentials"));
  EXPECT_TRUE(cs[1].allows_grant("authorization_code"));
  EXPECT_FALSE(cs[1].allows_grant("password"));
  EXPECT_TRUE(cs[2].confidential && cs[2].may_introspect && cs[2].allows_grant("client_credentials"));
  EXPECT_EQ(cs[2].secret_sha256, sha256_hex("api-secret"));
}

TEST(Clients, RedirectsStayUnderTheRegisteredPrefix) {
  Client web = default_clients(config())[1];
  EXPECT_TRUE(web.redirect_allowed("https://localhost:4000/console/callback"));
  EXPECT_FALSE(web.redirect_allowed("https://localhost:4000"));
  EXPECT_FALSE(web.redirect_allowed("https://localhost:40001/cb"));
  EXPECT_FALSE(web.redirect_allowed("https://localhost:4000.evil.example/cb"));
  EXPECT_FALSE(web.redirect_allowed("https://localhost:4000/../evil"));
  EXPECT_FALSE(web.redirect_allowed("https://localhost:4000/cb#frag"));
  EXPECT_FALSE(web.redirect_allowed("https://evil.example/cb"));
  EXPECT_FALSE(web.redirect_allowed(""));
}

TEST(ClientAuth, BasicAndPostBothWork) {
  auto r = authenticate_client(parse_form(""), basic("dive-api", "api-secret"), lookup());
  ASSERT_TRUE(r.client);
  EXPECT_EQ(r.client->client_id, "dive-api");
  r = authenticate_client(parse_form("client_id=dive-kas&client_secret=kas-secret"), std::nullopt, lookup());
  ASSERT_TRUE(r.client);
  EXPECT_EQ(r.client->client_id, "dive-kas");
}

TEST(ClientAuth, WrongMissingOrUnknownIsInvalidClient) {
  EXPECT_EQ(authenticate_client(parse_form(""), basic("dive-api", "kas-secret"), lookup()).error,
            ClientAuthError::InvalidClient);
  EXPECT_EQ(authenticate_client(parse_form("client_id=dive-api"), std::nullopt, lookup()).error,
            ClientAuthError::InvalidClient);
  EXPECT_EQ(authenticate_client(parse_form("client_id=nobody&client_secret=x"), std::nullopt, lookup()).error,
            ClientAuthError::InvalidClient);
  EXPECT_EQ(authenticate_client(parse_form(""), std::nullopt, lookup()).error,
            ClientAuthError::InvalidClient);
  auto r = authenticate_client(parse_form(""), std::string("Basic %%%"), lookup());
  EXPECT_EQ(r.error, ClientAuthError::InvalidClient);
  EXPECT_TRUE(r.used_basic);
}

TEST(ClientAuth, TwoMethodsAtOnceOrMismatchedIdsAreInvalidRequest) {
  EXPECT_EQ(
      authenticate_client(parse_form("client_secret=api-secret"), basic("dive-api", "api-secret"), lookup())
          .error,
      ClientAuthError::InvalidRequest);
  EXPECT_EQ(
      authenticate_client(parse_form("client_id=dive-kas"), basic("dive-api", "api-secret"), lookup()).error,
      ClientAuthError::InvalidRequest);
}

TEST(ClientAuth, PublicClientsIdentifyButMustNotSendSecrets) {
  auto r = authenticate_client(parse_form("client_id=dive-cli"), std::nullopt, lookup());
  ASSERT_TRUE(r.client);
  EXPECT_FALSE(r.client->confidential);
  EXPECT_EQ(
      authenticate_client(parse_form("client_id=dive-cli&client_secret=x"), std::nullopt, lookup()).error,
      ClientAuthError::InvalidClient);
}
