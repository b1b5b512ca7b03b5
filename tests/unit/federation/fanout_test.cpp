// Federated search and origin routing (federation/fanout.hpp) against a fake transport: parallel calls under
// one deadline, per-instance status, breakers, partial answers, ranking, and partners that lie.
#include "federation/fanout.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "common/clock.hpp"
#include "resilience/circuit_breaker.hpp"

namespace dive::federation {
namespace {

// Answers per host: a JSON list page, a status, or a transport failure.
class FakePartners : public net::HttpTransport {
 public:
  struct Host {
    int status = 200;
    Json resources = Json::array();
    bool refuse = false;  // connection refused
  };
  std::map<std::string, Host> hosts;  // by api URL
  std::mutex mu;
  std::vector<std::string> seen_auth;

  net::ClientResponse send(const net::ClientRequest& req) override {
    std::string base = req.url.substr(0, req.url.find("/api/"));
    Host h;
    {
      std::lock_guard lock(mu);
      seen_auth.push_back(req.headers.get("Authorization").value_or(""));
      h = hosts.at(base);
    }
    if (h.refuse) throw net::TransportError(net::TransportError::Kind::Connect, "connection refused");
    net::ClientResponse r;
    r.status = h.status;
    r.body = Json{{"resources", h.resources}}.dump();
    return r;
  }
};

Json doc(const std::string& id, const std::string& title, const std::string& created) {
  return Json{{"resourceId", id}, {"title", title}, {"createdAt", created}};
}

LocalSearch own(Json resources) {
  return [resources](const std::map<std::string, std::string>&) {
    return std::pair<int, Json>{200, Json{{"resources", resources}}};
  };
}

TEST(OriginOf, ReadsTheCodeOfTheId) {
  EXPECT_EQ(origin_of("doc-USA-abc"), "USA");
  EXPECT_EQ(origin_of("doc-usa-abc"), "");
  EXPECT_EQ(origin_of("doc-US-abc"), "");
  EXPECT_EQ(origin_of("resource-1"), "");
}

TEST(FederatedSearch, MergesRanksAndReportsEveryInstance) {
  FakePartners net;
  net.hosts["https://gbr"].resources = Json::array({doc("doc-GBR-1", "Weekly brief", "2026-01-02")});
  net.hosts["https://usa"].resources = Json::array(
      {doc("doc-USA-1", "Logistics", "2026-01-03"), doc("doc-USA-2", "Brief on ports", "2026-01-01")});
  std::vector<Partner> partners{{"USA", "https://usa", nullptr, std::nullopt},
                                {"GBR", "https://gbr", nullptr, std::nullopt}};
  SearchRequest req;
  req.query = {{"query", "brief"}};
  req.bearer_token = "user-token";
  auto r = federated_search("FRA", own(Json::array({doc("doc-FRA-1", "Notes", "2026-01-04")})), partners, net,
                            req);
  EXPECT_FALSE(r.partial);
  ASSERT_EQ(r.instances.size(), 3u);
  EXPECT_EQ(r.instances[0].code, "FRA");
  for (const auto& i : r.instances) EXPECT_EQ(i.status, PartnerStatus::Ok) << i.code;
  ASSERT_EQ(r.resources.size(), 4u);
  // Titles with the query first (newest first among them), then the rest newest first.
  EXPECT_EQ(r.resources[0]["resourceId"], "doc-GBR-1");
  EXPECT_EQ(r.resources[1]["resourceId"], "doc-USA-2");
  EXPECT_EQ(r.resources[2]["resourceId"], "doc-FRA-1");
  EXPECT_EQ(r.resources[0]["originInstance"], "GBR");
  // The user's own token goes to every partner.
  for (const auto& a : net.seen_auth) EXPECT_EQ(a, "Bearer user-token");
}

TEST(FederatedSearch, APartnerDownIsPartialAndItsBreakerOpens) {
  FakePartners net;
  net.hosts["https://usa"].resources = Json::array({doc("doc-USA-1", "a", "2026-01-01")});
  net.hosts["https://gbr"].refuse = true;
  FakeClock clock;
  resilience::CircuitBreaker gbr("partner:GBR", resilience::BreakerConfig{2, Millis(30000), 1, 0}, clock);
  std::vector<Partner> partners{{"USA", "https://usa", nullptr, std::nullopt},
                                {"GBR", "https://gbr", &gbr, std::nullopt}};
  SearchRequest req;
  for (int i = 0; i < 2; ++i) {
    auto r = federated_search("FRA", own(Json::array()), partners, net, req);
    EXPECT_TRUE(r.partial);
    EXPECT_EQ(r.instances[2].status, PartnerStatus::Unavailable);
    EXPECT_EQ(r.resources.size(), 1u);
  }
  auto r = federated_search("FRA", own(Json::array()), partners, net, req);
  EXPECT_EQ(r.instances[2].status, PartnerStatus::BreakerOpen);
  EXPECT_EQ(r.to_json()["instances"][2]["status"], "breaker_open");
  // Suspended and stale partners are not called, and say why.
  partners[1].skip = PartnerStatus::Suspended;
  partners[0].skip = PartnerStatus::Stale;
  auto calls = net.seen_auth.size();
  auto s = federated_search("FRA", own(Json::array()), partners, net, req);
  EXPECT_EQ(net.seen_auth.size(), calls);
  EXPECT_EQ(s.to_json()["instances"][1]["status"], "unavailable");
  EXPECT_EQ(s.to_json()["instances"][2]["status"], "suspended");
}

TEST(FederatedSearch, APartnerAnswersForItsOwnDocumentsOnly) {
  FakePartners net;
  net.hosts["https://gbr"].resources = Json::array(
      {doc("doc-GBR-1", "ours", "2026-01-01"), doc("doc-USA-9", "claimed", "2026-01-02"), "junk"});
  std::vector<Partner> partners{{"GBR", "https://gbr", nullptr, std::nullopt}};
  auto r = federated_search("FRA", own(Json::array()), partners, net, SearchRequest{});
  ASSERT_EQ(r.resources.size(), 1u);
  EXPECT_EQ(r.resources[0]["resourceId"], "doc-GBR-1");
}

TEST(ForwardToOrigin, PassesTheAnswerOnAndCountsFailuresAgainstTheBreaker) {
  FakePartners net;
  net.hosts["https://usa"].status = 403;
  FakeClock clock;
  resilience::CircuitBreaker usa("partner:USA", resilience::BreakerConfig{1, Millis(30000), 1, 0}, clock);
  Partner p{"USA", "https://usa", &usa, std::nullopt};
  auto f = forward_to_origin(p, net, "GET", "/api/resources/doc-USA-1", "", "tok", "rid", Millis(1000));
  EXPECT_EQ(f.outcome, Forwarded::Outcome::Answered);
  EXPECT_EQ(f.status, 403);  // the origin's decision, passed on
  net.hosts["https://usa"].refuse = true;
  EXPECT_EQ(
      forward_to_origin(p, net, "GET", "/api/resources/doc-USA-1", "", "tok", "rid", Millis(1000)).outcome,
      Forwarded::Outcome::Unavailable);
  EXPECT_EQ(
      forward_to_origin(p, net, "GET", "/api/resources/doc-USA-1", "", "tok", "rid", Millis(1000)).outcome,
      Forwarded::Outcome::BreakerOpen);
}

}  // namespace
}  // namespace dive::federation

namespace dive::federation {
namespace {

// Answers /health/ready per host with a status, or refuses; records every URL asked.
class FakeHealth : public net::HttpTransport {
 public:
  std::map<std::string, int> status;  // by api URL; absent: connection refused
  std::vector<std::string> asked;
  net::ClientResponse send(const net::ClientRequest& req) override {
    asked.push_back(req.url);
    const std::string base = req.url.substr(0, req.url.find("/health/"));
    auto it = status.find(base);
    if (it == status.end())
      throw net::TransportError(net::TransportError::Kind::Connect, "connection refused");
    net::ClientResponse r;
    r.status = it->second;
    return r;
  }
};

TEST(ProbeRecoveringPartners, AHalfOpenPartnerBreakerClosesWithoutUserTraffic) {
  FakeClock clock;
  const resilience::BreakerConfig cfg{1, Millis(3000), 2, 0};
  resilience::CircuitBreaker gbr("partner:GBR", cfg, clock), usa("partner:USA", cfg, clock),
      deu("partner:DEU", cfg, clock);
  std::vector<Partner> partners{{"GBR", "https://gbr", &gbr, std::nullopt},
                                {"USA", "https://usa", &usa, std::nullopt},
                                {"DEU", "https://deu", &deu, PartnerStatus::Stale}};
  FakeHealth net;
  net.status = {{"https://gbr", 200}, {"https://usa", 200}, {"https://deu", 200}};
  // Closed breakers cost nothing.
  EXPECT_EQ(probe_recovering_partners(partners, net, Millis(100)), 0);
  EXPECT_TRUE(net.asked.empty());
  // GBR and DEU failed once (open); while open, nobody is asked.
  for (auto* b : {&gbr, &deu}) b->try_acquire()->failure("down");
  EXPECT_EQ(probe_recovering_partners(partners, net, Millis(100)), 0);
  // After the open period GBR is probed until closed; DEU, stale at the hub, is left alone.
  clock.advance(Millis(3001));
  EXPECT_EQ(probe_recovering_partners(partners, net, Millis(100)), 1);
  EXPECT_EQ(net.asked, std::vector<std::string>{"https://gbr/health/ready"});
  EXPECT_EQ(gbr.state(), resilience::BreakerState::HalfOpen) << "two successes close it";
  EXPECT_EQ(probe_recovering_partners(partners, net, Millis(100)), 1);
  EXPECT_EQ(gbr.state(), resilience::BreakerState::Closed);
  EXPECT_EQ(deu.state(), resilience::BreakerState::HalfOpen);
  EXPECT_EQ(probe_recovering_partners(partners, net, Millis(100)), 0);
}

TEST(ProbeRecoveringPartners, APartnerNotReadyOrSilentReopensItsBreaker) {
  FakeClock clock;
  resilience::CircuitBreaker gbr("partner:GBR", resilience::BreakerConfig{1, Millis(3000), 2, 0}, clock);
  std::vector<Partner> partners{{"GBR", "https://gbr", &gbr, std::nullopt}};
  FakeHealth net;
  gbr.try_acquire()->failure("down");
  clock.advance(Millis(3001));
  net.status = {{"https://gbr", 503}};  // up but unhealthy
  EXPECT_EQ(probe_recovering_partners(partners, net, Millis(100)), 1);
  EXPECT_EQ(gbr.state(), resilience::BreakerState::Open);
  EXPECT_NE(gbr.snapshot().last_failure.find("503"), std::string::npos) << gbr.snapshot().last_failure;
  clock.advance(Millis(3001));
  net.status.clear();  // refuses
  EXPECT_EQ(probe_recovering_partners(partners, net, Millis(100)), 1);
  EXPECT_EQ(gbr.state(), resilience::BreakerState::Open);
}

}  // namespace
}  // namespace dive::federation
