// The web console of a hub deployed for real (test profile): `dive serve web` under the supervisor, its start
// page and assets over verified TLS, the security headers on every response (errors included), health,
// status, stop/start (docs/WEB.md).
#include <gtest/gtest.h>
#include <strings.h>

#include <memory>
#include <regex>

#include "dive_cli.hpp"
#include "net/https_client.hpp"
#include "orchestrator/port_probe.hpp"
#include "servers.hpp"
#include "web/security_headers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

class WebConsole : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cli_ = std::make_unique<DiveCli>(std::vector<std::string>{"USA"});
    auto r = cli_->run({"hub", "deploy", "--profile", "test"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    deploy_output_ = r.output;
  }
  static void TearDownTestSuite() { cli_.reset(); }

  static net::ClientResponse send(const std::string& method, const std::string& path,
                                  const std::string& if_none_match = "", const std::string& cookie = "") {
    net::ClientConfig cc;
    cc.ca_file = cli_->ca_file().string();  // verified against the instance's CA only
    net::HttpsClient client(cc);
    net::ClientRequest r;
    r.method = method;
    r.url = base_url() + path;
    r.timeout = 5s;
    if (!if_none_match.empty()) r.headers.set("If-None-Match", if_none_match);
    if (!cookie.empty()) r.headers.set("Cookie", cookie);
    return client.send(r);
  }
  static std::string base_url() { return "https://localhost:" + std::to_string(cli_->port("USA", "web")); }

  // Every header of web/security_headers.hpp, present once and exact.
  static void expect_security_headers(const net::ClientResponse& r, const std::string& what) {
    for (const auto& [name, value] : web::security_headers().all()) {
      EXPECT_EQ(r.headers.get(name), value) << what << ": " << name;
      size_t n = 0;
      for (const auto& [k, v] : r.headers.all()) n += strcasecmp(k.c_str(), name.c_str()) == 0;
      EXPECT_EQ(n, 1u) << what << ": " << name << " once";
    }
    const std::string csp = r.headers.get("Content-Security-Policy").value_or("");
    EXPECT_EQ(csp.find("unsafe-"), std::string::npos) << what;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << what;
  }

  static std::unique_ptr<DiveCli> cli_;
  static std::string deploy_output_;
};
std::unique_ptr<DiveCli> WebConsole::cli_;
std::string WebConsole::deploy_output_;

TEST_F(WebConsole, DeployStartsItAndPrintsItsUrl) {
  EXPECT_NE(deploy_output_.find("web console " + base_url() + "/"), std::string::npos) << deploy_output_;
  Json web = cli_->service_status("USA", "web");
  EXPECT_EQ(web["state"], "running") << web.dump();
  EXPECT_TRUE(web.value("healthy", false)) << web.dump();
  EXPECT_EQ(web["port"], cli_->port("USA", "web")) << web.dump();
  EXPECT_EQ(cli_->instance_config("USA")["urls"]["web"], base_url());
}

TEST_F(WebConsole, TheStartPageOverVerifiedTlsHasASignInControl) {
  auto r = send("GET", "/");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_TRUE(std::regex_search(r.body, std::regex(R"(<button[^>]*>\s*Sign in\s*</button>)"))) << r.body;
  EXPECT_NE(r.body.find("DIVE"), std::string::npos);
  EXPECT_NE(r.body.find("/assets/app.js"), std::string::npos);
  EXPECT_TRUE(r.headers.has("ETag"));
  EXPECT_EQ(r.headers.get("Cache-Control"), "no-store");
  expect_security_headers(r, "GET /");
  // Revalidation: the same ETag gets 304 without a body, still with the headers.
  auto again = send("GET", "/", *r.headers.get("ETag"));
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  expect_security_headers(again, "304");
}

TEST_F(WebConsole, AssetsAreServedFromTheBinaryWithTheirTypes) {
  auto js = send("GET", "/assets/app.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.headers.get("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_TRUE(js.headers.has("ETag"));
  EXPECT_TRUE(js.headers.has("Cache-Control"));
  expect_security_headers(js, "GET /assets/app.js");
  auto css = send("GET", "/assets/style.css");
  ASSERT_EQ(css.status, 200);
  EXPECT_EQ(css.headers.get("Content-Type"), "text/css; charset=utf-8");
  EXPECT_NE(css.headers.get("ETag"), js.headers.get("ETag"));
}

TEST_F(WebConsole, ErrorsCarryTheSecurityHeadersToo) {
  auto missing = send("GET", "/assets/nope.js");
  EXPECT_EQ(missing.status, 404);
  expect_security_headers(missing, "unknown asset");
  auto nowhere = send("GET", "/no/such/page");
  EXPECT_EQ(nowhere.status, 404);
  expect_security_headers(nowhere, "unknown path");
  auto post = send("POST", "/");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers.get("Allow"), "GET, HEAD");
  expect_security_headers(post, "POST /");
  auto del = send("DELETE", "/assets/app.js");
  EXPECT_EQ(del.status, 405);
  expect_security_headers(del, "DELETE asset");
}

TEST_F(WebConsole, HealthAndMetricsLikeEveryService) {
  auto h = send("GET", "/health");
  ASSERT_EQ(h.status, 200) << h.body;
  EXPECT_EQ(h.json()["status"], "healthy") << h.body;
  EXPECT_EQ(h.json()["service"], "web");
  EXPECT_EQ(h.json()["instance"], "USA");
  expect_security_headers(h, "/health");
  EXPECT_EQ(send("GET", "/health/ready").status, 200);
  EXPECT_EQ(send("GET", "/health/live").status, 200);
  auto m = send("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("dive_v3_http_requests_total{service=\"web\""), std::string::npos);
  Json st = cli_->run_json({"hub", "status", "--json"});
  bool listed = false;
  for (const auto& s : st["services"])
    if (s["name"] == "web") listed = s["state"] == "running";
  EXPECT_TRUE(listed) << st.dump(2);
  Json v = cli_->run_json({"hub", "verify", "--json"});
  EXPECT_TRUE(v["ok"].get<bool>()) << v.dump(2);
}

TEST_F(WebConsole, StopKeepsItStoppedAndStartBringsItBack) {
  auto stop = cli_->run({"hub", "stop", "web"});
  ASSERT_EQ(stop.exit_code, 0) << stop.output;
  Json web;
  EXPECT_TRUE(wait_until(
      [&] {
        web = cli_->service_status("USA", "web");
        return web["state"] == "stopped" && orch::port_free(cli_->port("USA", "web"));
      },
      30s, 200ms))
      << web.dump();
  EXPECT_EQ(web["restarts"], 0) << "a deliberate stop is not a crash: " << web.dump();
  EXPECT_THROW(send("GET", "/"), net::TransportError);
  EXPECT_TRUE(cli_->service_status("USA", "api")["healthy"].get<bool>()) << "nothing depends on the console";

  auto start = cli_->run({"hub", "start", "web"});
  ASSERT_EQ(start.exit_code, 0) << start.output;
  EXPECT_TRUE(
      wait_until([&] { return cli_->service_status("USA", "web").value("healthy", false); }, 30s, 200ms));
  EXPECT_EQ(send("GET", "/").status, 200);
}

// The backend-for-frontend's edge over real TLS (the signed-in flows run in Chromium: ./dive test web).
TEST_F(WebConsole, SignInStartsACodeFlowWithPkceBoundToTheBrowser) {
  auto s = send("GET", "/bff/session");
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.headers.get("Cache-Control"), "no-store");
  Json session = Json::parse(s.body);
  EXPECT_FALSE(session["authenticated"].get<bool>());
  ASSERT_EQ(session["nations"].size(), 1u) << s.body;  // a hub alone: its own nation
  EXPECT_EQ(session["nations"][0]["code"], "USA");

  auto go = send("GET", "/auth/login?return=%2F%23%2Fdocuments");
  ASSERT_EQ(go.status, 302) << go.body;
  const std::string location = go.headers.get("Location").value_or("");
  const std::string issuer = cli_->instance_config("USA")["issuer"].get<std::string>();
  EXPECT_EQ(location.rfind(issuer + "/protocol/openid-connect/auth?", 0), 0u) << location;
  for (const char* part : {"client_id=dive-web", "code_challenge_method=S256", "response_type=code",
                           "redirect_uri=https%3A%2F%2Flocalhost%3A"})
    EXPECT_NE(location.find(part), std::string::npos) << part << " in " << location;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(location, m, std::regex("[?&]state=([A-Za-z0-9_-]+)")));
  const std::string cookie = go.headers.get("Set-Cookie").value_or("");
  EXPECT_EQ(cookie.rfind("__Host-dive_login=" + m[1].str() + ";", 0), 0u) << cookie;
  for (const char* attr : {"; Secure", "; HttpOnly", "; SameSite=Lax", "; Path=/"})
    EXPECT_NE(cookie.find(attr), std::string::npos) << attr;

  // The identity provider accepts the console's callback as dive-web's redirect URI: its sign-in form.
  net::ClientConfig cc;
  cc.ca_file = cli_->ca_file().string();
  net::HttpsClient client(cc);
  net::ClientRequest form;
  form.url = location;
  auto page = client.send(form);
  EXPECT_EQ(page.status, 200) << page.body.substr(0, 400);
  EXPECT_NE(page.body.find("form id=\"login\""), std::string::npos);

  // A callback without the browser's login cookie (another browser, login CSRF) signs nobody in.
  auto cb = send("GET", "/auth/callback?code=abc&state=" + m[1].str());
  EXPECT_EQ(cb.status, 302);
  EXPECT_EQ(cb.headers.get("Location"), "/?signin_error=bad_request");
  EXPECT_EQ(cb.headers.get("Set-Cookie").value_or("").find("__Host-dive_session="), std::string::npos);
  // The right browser with a code the identity provider never issued: refused there, and the state is used
  // up.
  const std::string bound = "__Host-dive_login=" + m[1].str();
  cb = send("GET", "/auth/callback?code=abc&state=" + m[1].str(), "", bound);
  EXPECT_EQ(cb.headers.get("Location"), "/?signin_error=unauthorized");
  cb = send("GET", "/auth/callback?code=abc&state=" + m[1].str(), "", bound);
  EXPECT_EQ(cb.headers.get("Location"), "/?signin_error=bad_request");

  // Counted: two callbacks refused as not bound or used up, one refused by the identity provider.
  auto metrics = send("GET", "/metrics").body;
  EXPECT_NE(metrics.find("dive_v3_web_signins_total{outcome=\"bad_request\"} 2"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("dive_v3_web_signins_total{outcome=\"unauthorized\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("dive_v3_web_sessions 0"), std::string::npos);
}

TEST_F(WebConsole, WithoutASessionTheBackendRefusesEverything) {
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/bff/api/resources"},
                                                        {"GET", "/bff/api/auth/me"},
                                                        {"POST", "/bff/api/resources"},
                                                        {"POST", "/bff/logout"},
                                                        {"GET", "/bff/operations"}}) {
    for (const std::string& cookie : {std::string(), std::string("__Host-dive_session=forged-session-id")}) {
      auto r = send(method, path, "", cookie);
      EXPECT_EQ(r.status, 401) << method << " " << path << " " << cookie << ": " << r.body;
      EXPECT_EQ(r.headers.get("Cache-Control"), "no-store") << path;
      expect_security_headers(r, method + " " + path);
    }
  }
}
