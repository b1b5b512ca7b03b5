// The request-path decision of api and kas: bearer token -> validator -> mirror, and the 401/503 answers.
#include "services/runtime/authenticator.hpp"

#include <gtest/gtest.h>

#include "identity/revocation_mirror.hpp"
#include "validator_fixture.hpp"

using namespace dive;
using namespace dive::identity;
using namespace dive::identity::testing;
using namespace dive::services;
using namespace std::chrono_literals;

namespace {

class Auth : public ValidatorTest {
 protected:
  RevocationMirror mirror{MirrorConfig{.max_staleness = 300s}, clock, &registry};
  std::unique_ptr<Authenticator> auth_;  // after SetUp() made the validator
  Authenticator& auth_ref() {
    if (!auth_) {
      if (!mirror.synced_once()) mirror.reconcile({}, clock.now());  // an empty blacklist, read once
      auth_ = std::make_unique<Authenticator>(v(), mirror, &registry);
    }
    return *auth_;
  }

  net::Request request(const std::string& token) {
    net::Request r;
    r.method = "GET";
    r.path = "/api/auth/me";
    r.request_id = "req-1";
    if (!token.empty()) r.headers.set("Authorization", "Bearer " + token);
    return r;
  }
  int64_t now_ms() const { return clock.unix_millis(); }
  double counted(const std::string& result) {
    return registry.counter("dive_v3_auth_requests_total", "", {"result"}).labels({result}).value();
  }
};

void expect_refusal(const Authenticator::Outcome& o, int status, const std::string& token) {
  ASSERT_FALSE(o);
  ASSERT_TRUE(o.failure);
  EXPECT_EQ(o.failure->status, status);
  Json body = Json::parse(o.failure->body);
  EXPECT_EQ(body["error"], status == 401 ? "Unauthorized" : "Service Unavailable");
  EXPECT_EQ(body["requestId"], "req-1");
  EXPECT_TRUE(body["message"].is_string());
  if (!token.empty()) {
    EXPECT_EQ(o.failure->body.find(token), std::string::npos);
  }
}

}  // namespace

TEST_F(Auth, AValidUnrevokedTokenIsTheVerifiedIdentity) {
  auto o = auth_ref().authenticate(request(token(rsa_key())));
  ASSERT_TRUE(o);
  EXPECT_EQ(revocation_subject(*o.token), "testuser-usa-3");
  EXPECT_EQ(counted("ok"), 1);
}

TEST_F(Auth, NoBearerTokenIs401) {
  expect_refusal(auth_ref().authenticate(request("")), 401, "");
  EXPECT_EQ(counted("missing"), 1);
}

TEST_F(Auth, AnInvalidTokenIs401WithoutTheReasonOrTheToken) {
  Json c = claims();
  c["aud"] = "someone-else";
  std::string t = token(rsa_key(), c);
  auto o = auth_ref().authenticate(request(t));
  expect_refusal(o, 401, t);
  EXPECT_EQ(o.failure->body.find("aud"), std::string::npos) << o.failure->body;
  EXPECT_EQ(o.failure->headers.get("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(counted("invalid"), 1);
}

TEST_F(Auth, ARevokedJtiOrAUserRevokedAfterIssueIs401) {
  Json c = claims();
  std::string t = token(rsa_key(), c);
  ASSERT_TRUE(auth_ref().authenticate(request(t)));
  mirror.apply(RevocationEvent::token(c["jti"], c["exp"], now_ms(), "USA"), RevocationSource::PubSub);
  expect_refusal(auth_ref().authenticate(request(t)), 401, t);
  EXPECT_EQ(counted("revoked"), 1);

  std::string other = token(rsa_key());
  ASSERT_TRUE(auth_ref().authenticate(request(other)));
  clock.advance(1s);
  mirror.apply(RevocationEvent::user("testuser-usa-3", now_ms(), now_ms(), "FRA"), RevocationSource::PubSub);
  expect_refusal(auth_ref().authenticate(request(other)), 401, other);
  clock.advance(1s);
  EXPECT_TRUE(auth_ref().authenticate(request(token(rsa_key()))))
      << "a login after the revocation is accepted";
}

TEST_F(Auth, UnavailableKeysAre503NotA401) {
  source.set_failing(true);
  auto o = auth_ref().authenticate(request(token(rsa_key())));
  expect_refusal(o, 503, "");
  EXPECT_EQ(o.failure->headers.get("Retry-After"), "5");
  EXPECT_EQ(counted("keys_unavailable"), 1);
}

TEST_F(Auth, AMirrorThatNeverSynchronisedFailsClosedWith503) {
  std::string t = token(rsa_key());
  auth_ = std::make_unique<Authenticator>(v(), mirror, &registry);  // the blacklist never answered
  expect_refusal(auth_->authenticate(request(t)), 503, t);
  EXPECT_EQ(counted("stale"), 1);
  mirror.reconcile({}, clock.now());
  EXPECT_TRUE(auth_->authenticate(request(t)));
}

TEST_F(Auth, AStaleMirrorFailsClosedWith503) {
  std::string t = token(rsa_key());
  auth_ref();  // synchronised now, then not for 301 s
  clock.advance(301s);
  expect_refusal(auth_ref().authenticate(request(t)), 503, t);
  EXPECT_EQ(counted("stale"), 1);
  mirror.reconcile({}, clock.now());
  EXPECT_TRUE(auth_ref().authenticate(request(t)));
}
