// The console's backend-for-frontend over a fake transport and a fake clock: the sign-in (PKCE, state bound
// to the browser, nonce), token refresh, the api allow-list, sign-out and the operations view's role check.
#include "web/bff.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <mutex>

#include "common/encoding.hpp"
#include "identity/idp/form.hpp"
#include "web/bff_routes.hpp"

using namespace dive;
using namespace dive::web;

namespace {

// Answers by "METHOD URL-without-query"; records every request.
class FakeTransport final : public net::HttpTransport {
 public:
  using Answer = std::function<net::ClientResponse(const net::ClientRequest&)>;
  void on(const std::string& key, Answer a) { answers_[key] = std::move(a); }
  net::ClientResponse send(const net::ClientRequest& req) override {
    std::lock_guard lock(mu_);
    sent.push_back(req);
    const std::string key = req.method + " " + req.url.substr(0, req.url.find('?'));
    auto it = answers_.find(key);
    if (it == answers_.end())
      throw net::TransportError(net::TransportError::Kind::Connect, "no route " + key);
    return it->second(req);
  }
  std::vector<net::ClientRequest> sent;

 private:
  std::mutex mu_;
  std::map<std::string, Answer> answers_;
};

net::ClientResponse json(int status, const Json& body) {
  net::ClientResponse r;
  r.status = status;
  r.body = body.dump();
  r.headers.set("Content-Type", "application/json");
  return r;
}

std::string fake_jwt(const Json& claims) {
  return base64url_encode(R"({"alg":"ES256"})") + "." + base64url_encode(claims.dump()) + ".sig";
}

const std::string kIssuer = "https://idp.test/realms/dive-v3-broker-usa";
const std::string kApi = "https://api.test";

std::map<std::string, std::string> query_of(const std::string& url) {
  std::map<std::string, std::string> out;
  auto form = identity::idp::parse_form(identity::idp::query_of(url));
  return form.values;
}

class BffTest : public ::testing::Test {
 protected:
  BffTest() : bff_(config(), http_, clock_) {
    http_.on("GET " + kApi + "/api/federation/status", [](const net::ClientRequest&) {
      return json(200,
                  {{"members", Json::array({{{"code", "USA"}, {"issuer", kIssuer}},
                                            {{"code", "FRA"}, {"issuer", "https://fra.test/realms/fra"}}})}});
    });
    http_.on("POST " + kIssuer + "/protocol/openid-connect/token", [this](const net::ClientRequest& r) {
      auto form = identity::idp::parse_form(r.body).values;
      if (form["grant_type"] == "authorization_code") {
        last_verifier_ = form["code_verifier"];
        if (form["code"] != "good-code") return json(400, {{"error", "invalid_grant"}});
        return json(200, {{"access_token", "at-1"},
                          {"refresh_token", "rt-1"},
                          {"id_token", fake_jwt({{"nonce", nonce_for_token_}})},
                          {"expires_in", 300},
                          {"refresh_expires_in", 1800}});
      }
      ++refreshes_;
      if (!refresh_ok_) return json(400, {{"error", "invalid_grant"}});
      return json(200, {{"access_token", "at-" + std::to_string(refreshes_ + 1)},
                        {"refresh_token", "rt-" + std::to_string(refreshes_ + 1)},
                        {"expires_in", 300},
                        {"refresh_expires_in", 1800}});
    });
    http_.on("GET " + kApi + "/api/auth/me", [this](const net::ClientRequest& r) {
      if (r.headers.get("Authorization") != "Bearer at-1") return json(401, {{"message", "bad token"}});
      return json(200, {{"preferred_username", "testuser-usa-1"}, {"roles", roles_}});
    });
  }

  static BffConfig config() {
    BffConfig c;
    c.code = "USA";
    c.hub = true;
    c.web_url = "https://web.test";
    c.api_url = kApi;
    c.issuer = kIssuer;
    return c;
  }

  // A complete sign-in; returns the session id.
  std::string sign_in() {
    auto go = std::get<LoginRedirect>(bff_.begin_login("", "/#/documents"));
    auto q = query_of(go.location);
    nonce_for_token_ = q["nonce"];
    auto in = bff_.finish_login({{"code", "good-code"}, {"state", go.state}, {"iss", kIssuer}}, go.state);
    EXPECT_TRUE(std::holds_alternative<SignedIn>(in));
    return std::get<SignedIn>(in).session_id;
  }

  FakeClock clock_;
  FakeTransport http_;
  Bff bff_;
  std::string nonce_for_token_, last_verifier_;
  Json roles_ = Json::array({"user"});
  int refreshes_ = 0;
  bool refresh_ok_ = true;
};

TEST_F(BffTest, LoginRedirectCarriesPkceStateAndNonce) {
  auto r = bff_.begin_login("", "/#/documents/doc-1");
  ASSERT_TRUE(std::holds_alternative<LoginRedirect>(r));
  const auto& go = std::get<LoginRedirect>(r);
  EXPECT_EQ(go.location.rfind(kIssuer + "/protocol/openid-connect/auth?", 0), 0u) << go.location;
  auto q = query_of(go.location);
  EXPECT_EQ(q["client_id"], "dive-web");
  EXPECT_EQ(q["redirect_uri"], "https://web.test/auth/callback");
  EXPECT_EQ(q["response_type"], "code");
  EXPECT_EQ(q["code_challenge_method"], "S256");
  EXPECT_EQ(q["code_challenge"].size(), 43u);
  EXPECT_EQ(q["state"], go.state);
  EXPECT_GE(q["nonce"].size(), 22u);
  // The verifier sent at the token endpoint hashes to the challenge.
  nonce_for_token_ = q["nonce"];
  auto in = bff_.finish_login({{"code", "good-code"}, {"state", go.state}}, go.state);
  ASSERT_TRUE(std::holds_alternative<SignedIn>(in));
  EXPECT_EQ(base64url_encode(sha256(last_verifier_)), q["code_challenge"]);
  EXPECT_EQ(std::get<SignedIn>(in).return_to, "/#/documents/doc-1");
}

TEST_F(BffTest, PartnerNationsComeFromTheFederationAndUnknownOnesAreRefused) {
  auto nations = bff_.nations();
  ASSERT_EQ(nations.size(), 2u);
  EXPECT_TRUE(nations[0].home);
  EXPECT_EQ(nations[1].code, "FRA");
  auto fra = std::get<LoginRedirect>(bff_.begin_login("FRA", "/"));
  EXPECT_EQ(fra.location.rfind("https://fra.test/realms/fra/protocol/openid-connect/auth?", 0), 0u);
  auto bad = bff_.begin_login("XXX", "/");
  ASSERT_TRUE(std::holds_alternative<BffError>(bad));
  EXPECT_EQ(std::get<BffError>(bad).kind, BffError::Kind::BadRequest);
}

TEST_F(BffTest, CallbackMustComeBackToTheSameBrowserOnceAndInTime) {
  auto go = std::get<LoginRedirect>(bff_.begin_login("", "/"));
  nonce_for_token_ = query_of(go.location)["nonce"];
  // Another browser (no or another login cookie): refused, and the state stays unusable for it.
  auto other = bff_.finish_login({{"code", "good-code"}, {"state", go.state}}, std::string("someone-else"));
  ASSERT_TRUE(std::holds_alternative<BffError>(other));
  EXPECT_EQ(std::get<BffError>(other).kind, BffError::Kind::BadRequest);
  auto none = bff_.finish_login({{"code", "good-code"}, {"state", go.state}}, std::nullopt);
  ASSERT_TRUE(std::holds_alternative<BffError>(none));
  // The right browser: once.
  EXPECT_TRUE(std::holds_alternative<SignedIn>(
      bff_.finish_login({{"code", "good-code"}, {"state", go.state}}, go.state)));
  EXPECT_TRUE(std::holds_alternative<BffError>(
      bff_.finish_login({{"code", "good-code"}, {"state", go.state}}, go.state)));
  // Ten minutes later a pending sign-in is gone.
  auto late = std::get<LoginRedirect>(bff_.begin_login("", "/"));
  clock_.advance(std::chrono::minutes(10));
  EXPECT_TRUE(std::holds_alternative<BffError>(
      bff_.finish_login({{"code", "good-code"}, {"state", late.state}}, late.state)));
}

TEST_F(BffTest, WrongNonceIssuerOrCodeSignsNobodyIn) {
  auto go = std::get<LoginRedirect>(bff_.begin_login("", "/"));
  nonce_for_token_ = "not-the-nonce";
  auto r = bff_.finish_login({{"code", "good-code"}, {"state", go.state}}, go.state);
  ASSERT_TRUE(std::holds_alternative<BffError>(r));
  EXPECT_EQ(std::get<BffError>(r).kind, BffError::Kind::Unauthorized);

  go = std::get<LoginRedirect>(bff_.begin_login("", "/"));
  r = bff_.finish_login({{"code", "good-code"}, {"state", go.state}, {"iss", "https://evil.test"}}, go.state);
  ASSERT_TRUE(std::holds_alternative<BffError>(r));
  EXPECT_EQ(std::get<BffError>(r).kind, BffError::Kind::BadRequest);

  go = std::get<LoginRedirect>(bff_.begin_login("", "/"));
  nonce_for_token_ = query_of(go.location)["nonce"];
  r = bff_.finish_login({{"code", "stolen-code"}, {"state", go.state}}, go.state);
  ASSERT_TRUE(std::holds_alternative<BffError>(r));
  EXPECT_EQ(std::get<BffError>(r).kind, BffError::Kind::Unauthorized);

  go = std::get<LoginRedirect>(bff_.begin_login("", "/"));
  r = bff_.finish_login({{"error", "access_denied"}, {"state", go.state}}, go.state);
  ASSERT_TRUE(std::holds_alternative<BffError>(r));
  EXPECT_EQ(bff_.sessions().size(), 0u);
}

TEST_F(BffTest, TokensAreRefreshedOnTheServerAndARefusedRefreshEndsTheSession) {
  http_.on("GET " + kApi + "/api/resources", [](const net::ClientRequest& r) {
    return json(200, {{"auth", r.headers.get("Authorization").value_or("")}});
  });
  const std::string id = sign_in();
  auto s = bff_.session(id);
  ASSERT_TRUE(s);
  auto a = bff_.call_api(id, *s, "GET", "/api/resources?limit=5", "", "rid");
  ASSERT_TRUE(std::holds_alternative<ApiAnswer>(a));
  EXPECT_NE(std::get<ApiAnswer>(a).body.find("Bearer at-1"), std::string::npos);
  EXPECT_EQ(refreshes_, 0);
  // 30 s before the access token expires, the next call refreshes it first.
  clock_.advance(std::chrono::seconds(271));
  a = bff_.call_api(id, *s, "GET", "/api/resources", "", "rid");
  ASSERT_TRUE(std::holds_alternative<ApiAnswer>(a));
  EXPECT_EQ(refreshes_, 1);
  EXPECT_NE(std::get<ApiAnswer>(a).body.find("Bearer at-2"), std::string::npos);
  // The identity provider refuses the next refresh (revoked elsewhere): the session is over.
  refresh_ok_ = false;
  clock_.advance(std::chrono::seconds(290));
  a = bff_.call_api(id, *s, "GET", "/api/resources", "", "rid");
  ASSERT_TRUE(std::holds_alternative<BffError>(a));
  EXPECT_EQ(std::get<BffError>(a).kind, BffError::Kind::Unauthorized);
  EXPECT_FALSE(bff_.session(id));
}

TEST_F(BffTest, ARefusedTokenAtTheApiEndsTheSession) {
  http_.on("GET " + kApi + "/api/resources/doc-1", [](const net::ClientRequest&) {
    return json(401, {{"message", "token revoked"}});
  });
  const std::string id = sign_in();
  auto a = bff_.call_api(id, *bff_.session(id), "GET", "/api/resources/doc-1", "", "rid");
  ASSERT_TRUE(std::holds_alternative<BffError>(a));
  EXPECT_EQ(std::get<BffError>(a).kind, BffError::Kind::Unauthorized);
  EXPECT_FALSE(bff_.session(id));
}

TEST_F(BffTest, TheSessionEndsWithItsRefreshToken) {
  const std::string id = sign_in();
  clock_.advance(std::chrono::seconds(1799));
  EXPECT_TRUE(bff_.session(id));
  clock_.advance(std::chrono::seconds(1));
  EXPECT_FALSE(bff_.session(id));
}

TEST_F(BffTest, OnlyTheConsolesOwnApiCallsPass) {
  EXPECT_TRUE(Bff::allowed_api_call("GET", "/api/resources"));
  EXPECT_TRUE(Bff::allowed_api_call("GET", "/api/resources?query=a&limit=5"));
  EXPECT_TRUE(Bff::allowed_api_call("GET", "/api/resources/federated-search?query=x"));
  EXPECT_TRUE(Bff::allowed_api_call("GET", "/api/resources/doc-1"));
  EXPECT_TRUE(Bff::allowed_api_call("GET", "/api/resources/doc-1/ztdf"));
  EXPECT_TRUE(Bff::allowed_api_call("POST", "/api/resources/doc-1/key"));
  EXPECT_TRUE(Bff::allowed_api_call("POST", "/api/resources"));
  EXPECT_TRUE(Bff::allowed_api_call("GET", "/api/auth/me"));
  EXPECT_TRUE(Bff::allowed_api_call("GET", "/api/federation/status"));
  for (auto [m, p] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/api/auth/logout"},
                                                        {"POST", "/api/auth/revoke"},
                                                        {"GET", "/api/federation/bundle"},
                                                        {"POST", "/api/federation/register"},
                                                        {"DELETE", "/api/resources/doc-1"},
                                                        {"GET", "/api/resources/doc-1/../../auth/me"},
                                                        {"GET", "/api/resources//ztdf"},
                                                        {"GET", "/api/resources/doc-1/key"},
                                                        {"POST", "/api/resources/doc-1/ztdf"},
                                                        {"GET", "/health/detailed"},
                                                        {"GET", "/api"},
                                                        {"GET", "/api/federation/spokes"}})
    EXPECT_FALSE(Bff::allowed_api_call(m, p)) << m << " " << p;
}

TEST_F(BffTest, SignOutRevokesEverywhereAndEndsTheSession) {
  http_.on("POST " + kApi + "/api/auth/logout", [](const net::ClientRequest& r) {
    return json(r.headers.get("Authorization") == "Bearer at-1" ? 200 : 401, {{"success", true}});
  });
  bool revoked = false;
  http_.on("POST " + kIssuer + "/protocol/openid-connect/revoke", [&](const net::ClientRequest& r) {
    revoked = identity::idp::parse_form(r.body).values["token"] == "rt-1";
    return json(200, Json::object());
  });
  const std::string id = sign_in();
  SignedOut out = bff_.sign_out(id, "rid");
  EXPECT_TRUE(out.revoked_everywhere) << out.message;
  EXPECT_TRUE(revoked);
  EXPECT_FALSE(bff_.session(id));
  EXPECT_FALSE(bff_.sign_out(id, "rid").revoked_everywhere);
}

TEST_F(BffTest, SignOutSaysSoWhenTheRevocationIsNotConfirmed) {
  const std::string id = sign_in();  // no logout route: the api does not answer
  SignedOut out = bff_.sign_out(id, "rid");
  EXPECT_FALSE(out.revoked_everywhere);
  EXPECT_NE(out.message.find("not confirmed"), std::string::npos) << out.message;
  EXPECT_FALSE(bff_.session(id));
}

TEST_F(BffTest, OperationsAreForAdministrators) {
  const std::string id = sign_in();
  auto r = bff_.operations(id, *bff_.session(id), "rid");
  ASSERT_TRUE(std::holds_alternative<BffError>(r));
  EXPECT_EQ(std::get<BffError>(r).kind, BffError::Kind::Forbidden);

  roles_ = Json::array({"user", "admin"});
  const std::string admin = sign_in();
  r = bff_.operations(admin, *bff_.session(admin), "rid");
  ASSERT_TRUE(std::holds_alternative<Json>(r));
  const Json& ops = std::get<Json>(r);
  EXPECT_EQ(ops["instance"], "USA");
  EXPECT_FALSE(ops["alerts"]["available"].get<bool>());  // no Alertmanager configured
}

TEST(BffReturnTo, OnlyPathsOfTheConsole) {
  EXPECT_EQ(Bff::safe_return_to("/#/documents/doc-1"), "/#/documents/doc-1");
  EXPECT_EQ(Bff::safe_return_to("/"), "/");
  for (const char* bad : {"", "https://evil.test/", "//evil.test/", "/\\evil.test", "javascript:alert(1)",
                          "/a\r\nSet-Cookie: x=1", "documents"})
    EXPECT_EQ(Bff::safe_return_to(bad), "/") << bad;
  EXPECT_EQ(Bff::safe_return_to("/" + std::string(600, 'a')), "/");
}

TEST(BffCsrf, TokenAndOriginMustMatch) {
  WebSession s;
  s.csrf = "the-token";
  net::Request req;
  req.method = "POST";
  EXPECT_FALSE(csrf_ok(req, s, "https://web.test"));
  req.headers.set("X-CSRF-Token", "wrong");
  EXPECT_FALSE(csrf_ok(req, s, "https://web.test"));
  req.headers.set("X-CSRF-Token", "the-token");
  EXPECT_TRUE(csrf_ok(req, s, "https://web.test"));
  req.headers.set("Origin", "https://evil.test");
  EXPECT_FALSE(csrf_ok(req, s, "https://web.test"));
  req.headers.set("Origin", "https://web.test");
  req.headers.set("Sec-Fetch-Site", "cross-site");
  EXPECT_FALSE(csrf_ok(req, s, "https://web.test"));
  req.headers.set("Sec-Fetch-Site", "same-origin");
  EXPECT_TRUE(csrf_ok(req, s, "https://web.test"));
}

TEST(WebSessions, PendingLoginsAndSessionsAreBounded) {
  FakeClock clock;
  PendingLogins pending(clock, std::chrono::seconds(600), 3);
  std::vector<std::string> states;
  for (int i = 0; i < 4; ++i) {
    states.push_back(pending.start(PendingLogin{}));
    clock.advance(std::chrono::seconds(1));
  }
  EXPECT_EQ(pending.size(), 3u);
  EXPECT_FALSE(pending.take(states[0]));  // the oldest went first
  EXPECT_TRUE(pending.take(states[3]));

  SessionStore store(clock, std::chrono::hours(12), 2);
  auto live = [&] {
    WebSession s;
    s.tokens.access_expires = clock.wall() + std::chrono::minutes(5);
    s.tokens.refresh_token = "rt";
    s.tokens.refresh_expires = clock.wall() + std::chrono::hours(1);
    return s;
  };
  std::string a = store.create(live());
  clock.advance(std::chrono::seconds(1));
  std::string b = store.create(live());
  clock.advance(std::chrono::seconds(1));
  std::string c = store.create(live());
  EXPECT_EQ(store.size(), 2u);
  EXPECT_FALSE(store.find(a));
  EXPECT_TRUE(store.find(b));
  EXPECT_TRUE(store.find(c));
  EXPECT_NE(b, c);
  EXPECT_EQ(c.size(), 43u);
}

}  // namespace
