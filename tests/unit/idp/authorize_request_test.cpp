#include <gtest/gtest.h>

#include "identity/idp/authorize_request.hpp"
#include "identity/idp/idp_config.hpp"

using namespace dive::identity::idp;

namespace {
ClientLookup lookup() {
  IdpConfig c;
  c.api_url = "https://localhost:4000";
  auto clients = std::make_shared<std::vector<Client>>(default_clients(c));
  return [clients](const std::string& id) -> std::optional<Client> {
    for (const auto& cl : *clients)
      if (cl.client_id == id) return cl;
    return std::nullopt;
  };
}

const std::string kGood =
    "client_id=dive-web&redirect_uri=https%3A%2F%2Flocalhost%3A4000%2Fconsole%2Fcb&response_type=code&scope="
    "openid"
    "&state=xyz&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";

AuthorizeCheck check(const std::string& q) {
  FormParams f = parse_form(q);
  return check_authorize(AuthorizeRequest::from(f), f, lookup());
}
}  // namespace

TEST(Authorize, AValidPkceRequestPasses) {
  EXPECT_EQ(check(kGood).kind, AuthorizeCheck::Kind::Ok);
}

TEST(Authorize, UnknownClientOrRedirectIsNeverRedirectedTo) {
  EXPECT_EQ(check("client_id=evil&redirect_uri=https%3A%2F%2Fevil%2Fcb&response_type=code").kind,
            AuthorizeCheck::Kind::ShowError);
  EXPECT_EQ(check("client_id=dive-web&redirect_uri=https%3A%2F%2Fevil%2Fcb&response_type=code").kind,
            AuthorizeCheck::Kind::ShowError);
  EXPECT_EQ(check("client_id=dive-web&response_type=code").kind, AuthorizeCheck::Kind::ShowError);
}

TEST(Authorize, OtherErrorsGoBackToTheClientWithState) {
  auto no_pkce = check(kGood.substr(0, kGood.find("&code_challenge=")));
  EXPECT_EQ(no_pkce.kind, AuthorizeCheck::Kind::RedirectError);
  EXPECT_EQ(no_pkce.error, "invalid_request");
  auto plain = check(kGood.substr(0, kGood.find("S256")) + "plain");
  EXPECT_EQ(plain.kind, AuthorizeCheck::Kind::RedirectError);
  std::string token_flow = kGood;
  token_flow.replace(token_flow.find("response_type=code"), 18, "response_type=token");
  auto t = check(token_flow);
  EXPECT_EQ(t.error, "unsupported_response_type");
  FormParams f = parse_form(token_flow);
  EXPECT_EQ(t.redirect_url(AuthorizeRequest::from(f), "https://idp/realms/r"),
            "https://localhost:4000/console/"
            "cb?error=unsupported_response_type&error_description=Only%20response_type%"
            "3Dcode&state=xyz&iss=https%3A%2F%2Fidp%2Frealms%2Fr");
  EXPECT_EQ(check(kGood + "&state=again").error, "invalid_request") << "duplicate parameter";
}

TEST(Authorize, ThePasswordClientMayNotUseTheCodeFlow) {
  std::string q = kGood;
  q.replace(q.find("dive-web"), 8, "dive-cli");
  EXPECT_EQ(check(q).kind, AuthorizeCheck::Kind::ShowError) << "dive-cli has no redirect URI registered";
}
