#include "federation/fanout.hpp"

#include <algorithm>
#include <future>

#include "common/strings.hpp"
#include "resilience/circuit_breaker.hpp"

namespace dive::federation {

using namespace std::chrono;

std::string origin_of(std::string_view id) {
  if (id.size() < 9 || id.substr(0, 4) != "doc-" || id[7] != '-') return "";
  std::string code(id.substr(4, 3));
  for (char c : code)
    if (c < 'A' || c > 'Z') return "";
  return code;
}

const char* to_string(PartnerStatus s) {
  switch (s) {
    case PartnerStatus::Ok:
      return "ok";
    case PartnerStatus::Unavailable:
      return "unavailable";
    case PartnerStatus::Timeout:
      return "timeout";
    case PartnerStatus::BreakerOpen:
      return "breaker_open";
    case PartnerStatus::Suspended:
      return "suspended";
    case PartnerStatus::Stale:
      return "unavailable";
  }
  return "?";
}

Json InstanceOutcome::to_json() const {
  Json j{{"instance", code}, {"status", to_string(status)}, {"count", count}, {"latencyMs", latency_ms}};
  if (!error.empty()) j["error"] = error;
  return j;
}

Json SearchResult::to_json() const {
  Json inst = Json::array();
  for (const auto& i : instances) inst.push_back(i.to_json());
  return Json{
      {"resources", resources}, {"count", resources.size()}, {"partial", partial}, {"instances", inst}};
}

namespace {

std::string query_string(const std::map<std::string, std::string>& q) {
  std::string out;
  auto enc = [](const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string r;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        r.push_back(static_cast<char>(c));
      } else {
        r.push_back('%');
        r.push_back(hex[c >> 4]);
        r.push_back(hex[c & 15]);
      }
    }
    return r;
  };
  for (const auto& [k, v] : q) {
    out += out.empty() ? "?" : "&";
    out += enc(k) + "=" + enc(v);
  }
  return out;
}

struct Call {
  InstanceOutcome outcome;
  Json resources = Json::array();
};

int64_t ms_since(steady_clock::time_point t0) {
  return duration_cast<milliseconds>(steady_clock::now() - t0).count();
}

Call call_partner(const Partner& p, net::HttpTransport& http, const SearchRequest& req,
                  const std::map<std::string, std::string>& q, steady_clock::time_point deadline) {
  Call c;
  c.outcome.code = p.code;
  if (p.skip) {
    c.outcome.status = *p.skip;
    c.outcome.error = *p.skip == PartnerStatus::Suspended ? "suspended at the hub"
                                                          : "stale: no recent heartbeat at the hub";
    return c;
  }
  auto t0 = steady_clock::now();
  std::optional<resilience::CircuitBreaker::Permit> permit =
      p.breaker ? p.breaker->try_acquire() : std::nullopt;
  if (p.breaker) {
    if (!permit) {
      c.outcome.status = PartnerStatus::BreakerOpen;
      c.outcome.error = "circuit breaker partner:" + p.code + " is open";
      return c;
    }
  }
  auto fail = [&](PartnerStatus s, const std::string& why) {
    c.outcome.status = s;
    c.outcome.error = why;
    c.outcome.latency_ms = ms_since(t0);
    if (permit) permit->failure(why);
  };
  auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
  if (left <= milliseconds(0)) {
    fail(PartnerStatus::Timeout, "no time left before the deadline");
    return c;
  }
  net::ClientRequest r;
  r.url = p.api_url + "/api/resources" + query_string(q);
  r.timeout = left;
  r.headers.set("Authorization", "Bearer " + req.bearer_token);
  try {
    auto resp = http.send(r);
    c.outcome.latency_ms = ms_since(t0);
    if (resp.status == 200) {
      Json body = resp.json();
      if (body.contains("resources") && body["resources"].is_array())
        c.resources = std::move(body["resources"]);
      c.outcome.count = static_cast<int>(c.resources.size());
      if (permit) permit->success();
      return c;
    }
    if (resp.status >= 500) {
      fail(PartnerStatus::Unavailable, "answered " + std::to_string(resp.status));
      return c;
    }
    // 401/403/400: the partner answered and refused this user: not a partner failure.
    if (permit) permit->success();
    c.outcome.status = PartnerStatus::Unavailable;
    c.outcome.error = "refused this request (" + std::to_string(resp.status) + ")";
    return c;
  } catch (const net::TransportError& e) {
    fail(e.kind() == net::TransportError::Kind::Timeout ? PartnerStatus::Timeout : PartnerStatus::Unavailable,
         e.what());
  } catch (const std::exception& e) {
    fail(PartnerStatus::Unavailable, e.what());
  }
  return c;
}

}  // namespace

void rank_resources(Json& resources, const std::string& query) {
  const std::string q = to_lower(query);
  auto score = [&](const Json& r) {
    if (q.empty()) return 0;
    return to_lower(r.value("title", "")).find(q) != std::string::npos ? 1 : 0;
  };
  std::stable_sort(resources.begin(), resources.end(), [&](const Json& a, const Json& b) {
    int sa = score(a), sb = score(b);
    if (sa != sb) return sa > sb;
    auto ca = a.value("createdAt", ""), cb = b.value("createdAt", "");
    if (ca != cb) return ca > cb;
    return a.value("resourceId", "") < b.value("resourceId", "");
  });
}

SearchResult federated_search(const std::string& self_code, const LocalSearch& local,
                              const std::vector<Partner>& partners, net::HttpTransport& http,
                              const SearchRequest& req) {
  const auto deadline = steady_clock::now() + req.deadline;
  auto q = req.query;
  q["limit"] = std::to_string(req.limit);
  std::vector<std::future<Call>> futures;
  futures.reserve(partners.size());
  for (const auto& p : partners)
    futures.push_back(
        std::async(std::launch::async, [&, p] { return call_partner(p, http, req, q, deadline); }));

  SearchResult out;
  Json all = Json::array();
  {
    InstanceOutcome self{self_code, PartnerStatus::Ok, 0, 0, ""};
    auto t0 = steady_clock::now();
    try {
      auto [status, body] = local(q);
      self.latency_ms = ms_since(t0);
      if (status == 200 && body.contains("resources")) {
        for (auto& r : body["resources"]) {
          r["originInstance"] = self_code;
          all.push_back(std::move(r));
          ++self.count;
        }
      } else {
        self.status = PartnerStatus::Unavailable;
        self.error = body.value("message", "answered " + std::to_string(status));
      }
    } catch (const std::exception& e) {
      self.status = PartnerStatus::Unavailable;
      self.error = e.what();
    }
    out.instances.push_back(self);
  }
  for (auto& f : futures) {
    // Every call carries the deadline as its own timeout; the transport ends it by then.
    Call c = f.get();
    for (auto& r : c.resources) {
      // A partner answers for its own documents only: an entry naming another origin is dropped.
      if (!r.is_object() || origin_of(r.value("resourceId", "")) != c.outcome.code) continue;
      r["originInstance"] = c.outcome.code;
      all.push_back(std::move(r));
    }
    out.instances.push_back(std::move(c.outcome));
  }
  for (const auto& i : out.instances)
    if (i.status != PartnerStatus::Ok) out.partial = true;
  auto it = req.query.find("query");
  rank_resources(all, it == req.query.end() ? "" : it->second);
  if (static_cast<int>(all.size()) > req.limit) all.erase(all.begin() + req.limit, all.end());
  out.resources = std::move(all);
  return out;
}

Forwarded forward_to_origin(const Partner& origin, net::HttpTransport& http, const std::string& method,
                            const std::string& path, const std::string& body, const std::string& bearer_token,
                            const std::string& request_id, milliseconds timeout) {
  Forwarded f;
  std::optional<resilience::CircuitBreaker::Permit> permit =
      origin.breaker ? origin.breaker->try_acquire() : std::nullopt;
  if (origin.breaker) {
    if (!permit) {
      f.outcome = Forwarded::Outcome::BreakerOpen;
      f.error = "circuit breaker partner:" + origin.code + " is open";
      return f;
    }
  }
  net::ClientRequest r;
  r.method = method;
  r.url = origin.api_url + path;
  r.timeout = timeout;
  r.body = body;
  r.headers.set("Authorization", "Bearer " + bearer_token);
  if (!request_id.empty()) r.headers.set("X-Request-Id", request_id);
  if (!body.empty()) r.headers.set("Content-Type", "application/json");
  try {
    auto resp = http.send(r);
    if (resp.status >= 500) {
      if (permit) permit->failure("answered " + std::to_string(resp.status));
    } else if (permit) {
      permit->success();
    }
    f.status = resp.status;
    f.body = std::move(resp.body);
    f.content_type = resp.headers.get("Content-Type").value_or("application/json");
    return f;
  } catch (const net::TransportError& e) {
    f.outcome = e.kind() == net::TransportError::Kind::Timeout ? Forwarded::Outcome::Timeout
                                                               : Forwarded::Outcome::Unavailable;
    f.error = e.what();
    if (permit) permit->failure(e.what());
  }
  return f;
}

int probe_recovering_partners(const std::vector<Partner>& partners, net::HttpTransport& http,
                              milliseconds timeout) {
  int probed = 0;
  for (const auto& p : partners) {
    if (!p.breaker || p.skip || p.api_url.empty()) continue;
    if (p.breaker->state() != resilience::BreakerState::HalfOpen) continue;
    auto permit = p.breaker->try_acquire();
    if (!permit) continue;  // its trial calls are all in flight already
    ++probed;
    try {
      net::ClientRequest r;
      r.url = p.api_url + "/health/ready";
      r.timeout = timeout;
      auto resp = http.send(r);
      if (resp.status == 200)
        permit->success();
      else
        permit->failure("HTTP " + std::to_string(resp.status) + " from /health/ready");
    } catch (const std::exception& e) {
      permit->failure(e.what());
    }
  }
  return probed;
}

}  // namespace dive::federation
