// The authorization code flow with PKCE, driven over HTTP like a browser: GET the login form, POST the
// credentials it asks for, follow the redirect's code to the token endpoint.
#include <optional>
#include <regex>

#include "common/random.hpp"
#include "identity/idp/form.hpp"
#include "identity/idp/pkce.hpp"
#include "idp_fixture.hpp"
#include "net/url.hpp"

using namespace dive;
using namespace dive::testing;

namespace {

struct Flow {
  std::string verifier = secure_token(48);
  std::string state = secure_token(12);
  std::string nonce = secure_token(12);
  std::string redirect;
};

std::string html_unescape(std::string s) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"&quot;", "\""},
                          {"&lt;", "<"},
                          {"&gt;", ">"},
                          {"&#39;", "'"},
                          {"&amp;", "&"}}) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
      s.replace(p, from.size(), to);
  }
  return s;
}

}  // namespace

class CodeFlowTest : public IdpTest {
 protected:
  std::string redirect_uri() const {
    return cli().instance_config("USA")["urls"]["api"].get<std::string>() + "/console/callback";
  }

  // GET the form, POST it back with credentials and the cookie the form set (like a browser); returns the
  // 302's Location (or "" with the page in *page). `cookie_override` replaces the browser's cookie.
  std::string login(const Flow& f, const std::string& user, const std::string& password,
                    const std::string& otp_code, std::string* page = nullptr,
                    const std::optional<std::string>& cookie_override = std::nullopt, int* status = nullptr) {
    std::string url =
        identity::idp::add_query(oidc("auth"), {{"client_id", "dive-web"},
                                                {"redirect_uri", redirect_uri()},
                                                {"response_type", "code"},
                                                {"scope", "openid"},
                                                {"state", f.state},
                                                {"nonce", f.nonce},
                                                {"code_challenge", identity::idp::s256_challenge(f.verifier)},
                                                {"code_challenge_method", "S256"}});
    auto form = get(url);
    EXPECT_EQ(form.status, 200) << form.body;
    EXPECT_NE(form.headers.get("Content-Type").value_or("").find("text/html"), std::string::npos);
    std::smatch m;
    EXPECT_TRUE(std::regex_search(form.body, m,
                                  std::regex("<form id=\"login\" method=\"post\" action=\"([^\"]+)\"")));
    std::string action =
        "https://localhost:" + std::to_string(cli().port("USA", "idp")) + html_unescape(m[1]);
    std::vector<std::pair<std::string, std::string>> fields;
    std::regex hidden("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">");
    for (auto it = std::sregex_iterator(form.body.begin(), form.body.end(), hidden);
         it != std::sregex_iterator(); ++it)
      fields.emplace_back(html_unescape((*it)[1]), html_unescape((*it)[2]));
    fields.emplace_back("username", user);
    fields.emplace_back("password", password);
    fields.emplace_back("otp", otp_code);
    // "DIVE_LOGIN=<token>; Path=...; ..." -> "DIVE_LOGIN=<token>"
    std::string set_cookie = form.headers.get("Set-Cookie").value_or("");
    EXPECT_EQ(set_cookie.rfind("DIVE_LOGIN=", 0), 0u) << set_cookie;
    EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
    std::string cookie = cookie_override.value_or(set_cookie.substr(0, set_cookie.find(';')));
    auto posted = post(action, fields, "", cookie);
    if (page) *page = posted.body;
    if (status) *status = posted.status;
    if (posted.status != 302) return "";
    return posted.headers.get("Location").value_or("");
  }

  static std::map<std::string, std::string> query(const std::string& location) {
    return net::parse_query(identity::idp::query_of(location));
  }

  net::ClientResponse exchange(const std::string& code, const std::string& verifier) {
    return post("token", {{"grant_type", "authorization_code"},
                          {"client_id", "dive-web"},
                          {"code", code},
                          {"redirect_uri", redirect_uri()},
                          {"code_verifier", verifier}});
  }
};

TEST_F(CodeFlowTest, LoginFormCodeAndPkceExchangeGiveIdAndAccessTokens) {
  Flow f;
  std::string location = login(f, "testuser-usa-4", test_password(), otp("testuser-usa-4"));
  ASSERT_EQ(location.rfind(redirect_uri() + "?", 0), 0u) << location;
  auto q = query(location);
  EXPECT_EQ(q["state"], f.state);
  EXPECT_EQ(q["iss"], issuer());
  ASSERT_FALSE(q["code"].empty());

  auto r = exchange(q["code"], f.verifier);
  ASSERT_EQ(r.status, 200) << r.body;
  Json body = r.json();
  auto v = validate(body["access_token"]);
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_EQ(v.token().azp, "dive-web");
  EXPECT_EQ(v.token().acr, "1");
  EXPECT_EQ(v.token().claims["clearance"], "SECRET");
  Json id = claims_of(body["id_token"]);
  EXPECT_EQ(id["typ"], "ID");
  EXPECT_EQ(id["aud"], "dive-web");
  EXPECT_EQ(id["nonce"], f.nonce);
  EXPECT_EQ(id["sub"], v.token().subject);
  EXPECT_FALSE(validate(body["id_token"]).ok()) << "an ID token is no access token";

  // The code is single use; presenting it again revokes what it gave.
  auto again = exchange(q["code"], f.verifier);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.json()["error"], "invalid_grant");
  auto refresh = post(
      "token",
      {{"grant_type", "refresh_token"}, {"client_id", "dive-web"}, {"refresh_token", body["refresh_token"]}});
  EXPECT_EQ(refresh.status, 400) << "the code's session was revoked: " << refresh.body;
}

TEST_F(CodeFlowTest, AWrongVerifierIsRefusedAndBurnsTheCode) {
  Flow f;
  auto q = query(login(f, "testuser-usa-4", test_password(), ""));
  ASSERT_FALSE(q["code"].empty());
  Flow other;
  auto wrong = exchange(q["code"], other.verifier);
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(wrong.json()["error"], "invalid_grant");
  EXPECT_EQ(exchange(q["code"], f.verifier).status, 400);
}

TEST_F(CodeFlowTest, ASubmissionWithoutTheFormsCookieIsRefusedEvenWithGoodCredentials) {
  // What another site can make a browser send: the form's fields, but not our cookie (login CSRF).
  for (const std::string& cookie : {std::string(""), std::string("DIVE_LOGIN=" + secure_token(24))}) {
    Flow f;
    std::string page;
    int status = 0;
    EXPECT_EQ(login(f, "testuser-usa-4", test_password(), otp("testuser-usa-4"), &page, cookie, &status), "")
        << cookie;
    EXPECT_EQ(status, 400);
    EXPECT_NE(page.find("did not come from this site"), std::string::npos) << page;
  }
}

TEST_F(CodeFlowTest, WrongCredentialsShowTheFormAgainWithoutRedirect) {
  Flow f;
  std::string page;
  EXPECT_EQ(login(f, "testuser-usa-4", "not-the-password", "", &page), "");
  EXPECT_NE(page.find("Invalid username, password or one-time code."), std::string::npos) << page;
  EXPECT_NE(page.find("name=\"password\""), std::string::npos);
  EXPECT_NE(page.find("name=\"login_token\""), std::string::npos) << "the retry carries the same form token";
}

TEST_F(CodeFlowTest, AnUnregisteredRedirectUriIsNeverRedirectedTo) {
  std::string url = identity::idp::add_query(
      oidc("auth"), {{"client_id", "dive-web"},
                     {"redirect_uri", "https://evil.example/cb"},
                     {"response_type", "code"},
                     {"code_challenge", identity::idp::s256_challenge(secure_token(48))},
                     {"code_challenge_method", "S256"}});
  auto r = get(url);
  EXPECT_EQ(r.status, 400);
  EXPECT_FALSE(r.headers.has("Location"));
  std::string no_pkce = identity::idp::add_query(oidc("auth"), {{"client_id", "dive-web"},
                                                                {"redirect_uri", redirect_uri()},
                                                                {"response_type", "code"},
                                                                {"state", "s1"}});
  auto r2 = get(no_pkce);
  EXPECT_EQ(r2.status, 302);
  auto q = query(r2.headers.get("Location").value_or(""));
  EXPECT_EQ(q["error"], "invalid_request");
  EXPECT_EQ(q["state"], "s1");
}

TEST_F(CodeFlowTest, AReusedCodeWithoutItsVerifierOrRedirectRevokesNothing) {
  // Someone who saw a used code (a log, a referrer) must not be able to end its owner's session with it.
  Flow f;
  auto q = query(login(f, "testuser-usa-3", test_password(), ""));
  ASSERT_FALSE(q["code"].empty());
  auto first = exchange(q["code"], f.verifier);
  ASSERT_EQ(first.status, 200) << first.body;
  Flow other;
  auto wrong_verifier = exchange(q["code"], other.verifier);
  EXPECT_EQ(wrong_verifier.status, 400);
  EXPECT_EQ(wrong_verifier.json()["error"], "invalid_grant");
  auto wrong_redirect = post("token", {{"grant_type", "authorization_code"},
                                       {"client_id", "dive-web"},
                                       {"code", q["code"]},
                                       {"redirect_uri", redirect_uri() + "x"},
                                       {"code_verifier", f.verifier}});
  EXPECT_EQ(wrong_redirect.status, 400);
  auto refresh = post("token", {{"grant_type", "refresh_token"},
                                {"client_id", "dive-web"},
                                {"refresh_token", first.json()["refresh_token"]}});
  EXPECT_EQ(refresh.status, 200) << "the session the code gave lives on: " << refresh.body;
  auto v = validate(first.json()["access_token"]);
  EXPECT_TRUE(v.ok()) << v.message();
}
