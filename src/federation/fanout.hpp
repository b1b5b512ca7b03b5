#pragma once
// Calls to the other instances of the federation on a user's behalf (docs/FEDERATION.md):
//  - federated search: the same list query to every partner in parallel, under one deadline, each behind
//    its own breaker, with the user's own token (each origin filters by its own policy); the answers are
//    merged and ranked, with a per-instance status and `partial` when any instance did not answer;
//  - origin routing: a read, ZTDF or key request for a document of another instance (doc-<CODE>-...)
//    forwarded to that instance, whose pdp decides and whose KAS releases the key.
// Transport and breakers are given (fakes in unit tests); HTTP statuses are the callers' business except
// where a partner's own answer is passed through.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "net/https_client.hpp"

namespace dive::resilience {
class CircuitBreaker;
}

namespace dive::federation {

// The origin instance code of a document id "doc-<CODE>-...", or "" when the id has no origin prefix.
std::string origin_of(std::string_view resource_id);

// A stale partner (no recent heartbeat at the hub) is reported as unavailable, with the reason.
enum class PartnerStatus { Ok, Unavailable, Timeout, BreakerOpen, Suspended, Stale };
const char* to_string(PartnerStatus s);

struct Partner {
  std::string code;
  std::string api_url;
  resilience::CircuitBreaker* breaker = nullptr;  // partner:<CODE>
  // Set when the partner is known to be out (suspended at the hub, or stale): not called.
  std::optional<PartnerStatus> skip;
};

struct InstanceOutcome {
  std::string code;
  PartnerStatus status = PartnerStatus::Ok;
  int count = 0;
  int64_t latency_ms = 0;
  std::string error;
  Json to_json() const;
};

struct SearchResult {
  std::vector<InstanceOutcome> instances;  // self first, then partners in the given order
  Json resources = Json::array();          // merged, ranked, at most `limit`
  bool partial = false;                    // some instance did not answer
  Json to_json() const;
};

struct SearchRequest {
  std::map<std::string, std::string> query;  // query, classification, releasableTo, coi, limit
  std::string bearer_token;                  // the user's own
  std::chrono::milliseconds deadline{3000};
  int limit = 25;
};

// The local instance's own page: {status, body} as its list route would answer (body: {resources: [...]}).
using LocalSearch = std::function<std::pair<int, Json>(const std::map<std::string, std::string>& query)>;

// Fans out and merges. Never throws for a partner's failure (it becomes that instance's status).
SearchResult federated_search(const std::string& self_code, const LocalSearch& local,
                              const std::vector<Partner>& partners, net::HttpTransport& http,
                              const SearchRequest& req);

// Ranking: documents whose title contains the query (case-insensitive) first, then newer first (createdAt),
// then by id; ties across instances keep every instance represented.
void rank_resources(Json& resources, const std::string& query);

// A forwarded call to the origin; the origin's status and body are returned as they are.
struct Forwarded {
  enum class Outcome { Answered, Unavailable, Timeout, BreakerOpen };
  Outcome outcome = Outcome::Answered;
  int status = 0;
  std::string body, content_type;
  std::string error;
};
Forwarded forward_to_origin(const Partner& origin, net::HttpTransport& http, const std::string& method,
                            const std::string& path, const std::string& body, const std::string& bearer_token,
                            const std::string& request_id, std::chrono::milliseconds timeout);

// A partner's breaker closes only on calls, and between users' calls nobody makes them: a breaker left
// half-open after an outage would keep this instance degraded however long ago the partner came back. So the
// agent probes, every second, each partner whose breaker is HALF_OPEN with GET <api>/health/ready, judged
// like any call (200: a success; anything else, or no answer, a failure that re-opens it). Partners marked to
// skip (suspended or stale at the hub) and breakers closed or still open are left alone. Returns the number
// probed.
int probe_recovering_partners(const std::vector<Partner>& partners, net::HttpTransport& http,
                              std::chrono::milliseconds timeout);

}  // namespace dive::federation
