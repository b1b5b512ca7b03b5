#include "services/api/audit_routes.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <utility>

#include "audit/filter.hpp"
#include "audit/pg_store.hpp"
#include "common/encoding.hpp"
#include "common/periodic.hpp"
#include "services/runtime/audit_events.hpp"
#include "services/runtime/service_context.hpp"
#include "services/runtime/token_auth.hpp"
#include "store/pg_pool.hpp"

namespace dive::services {

namespace {

constexpr int kMaxLimit = 1000;

int64_t audit_now_ms() {
  return Clock::system().unix_millis();
}

// The query parameters as the record of the query keeps them (what was asked, not what was found).
Json asked(const std::map<std::string, std::string>& q) {
  Json j = Json::object();
  for (const auto& [k, v] : q)
    if (!v.empty()) j[k.substr(0, 32)] = v.substr(0, 128);
  return j;
}

// The page of an audit query: the events, their count, and the cursor of the next page when this one is
// full.
Json audit_page(const std::vector<audit::Record>& rows, int limit, const std::string& request_id) {
  Json events = Json::array();
  for (const auto& r : rows) events.push_back(audit::to_json(r));
  const bool more = static_cast<int>(rows.size()) == limit;
  return Json{{"events", events},
              {"count", rows.size()},
              {"nextCursor", more ? Json(std::to_string(rows.back().seq)) : Json(nullptr)},
              {"requestId", request_id}};
}

// GET /api/admin/audit: the trail's records an administrator asked for; the query itself is recorded,
// refused or not.
net::Response answer_audit_query(ServiceContext& c, net::Request& req, const identity::VerifiedToken& t) {
  audit::Event e = request_event(req, t, "admin.audit_query");
  e.details = audit::details(Json{{"query", asked(req.query)}});
  auto refuse = [&](int status, const char* error, const std::string& message, const char* outcome) {
    e.outcome = outcome;
    e.reason = message;
    c.audit().record(std::move(e));
    return net::Response::error(status, error, message, req.request_id);
  };
  if (!has_role(t, "admin"))
    return refuse(403, "Forbidden", "the audit trail is for administrators (role admin)", audit::kDeny);
  audit::Filter f;
  try {
    f = audit::parse_filter(req.query, audit_now_ms(), kMaxLimit);
  } catch (const audit::FilterError& err) {
    return refuse(400, "Bad Request", err.what(), audit::kFailure);
  }
  std::vector<audit::Record> rows;
  try {
    rows = c.db().with([&](pqxx::connection& conn) {
      pqxx::nontransaction tx(conn);
      return audit::query(tx, f);
    });
  } catch (const store::PgUnavailable&) {
    return refuse(503, "Service Unavailable", "the audit trail's database is unavailable", audit::kFailure);
  }
  e.outcome = audit::kAllow;
  e.details = audit::details(Json{{"query", asked(req.query)}, {"returned", rows.size()}});
  c.audit().record(std::move(e));
  return net::Response::json(200, audit_page(rows, f.limit, req.request_id));
}

// A checkpoint of the chain in the api's log: a copy of the head outside the database (logs are shipped
// elsewhere), against which a chain rewritten from some point on shows.
void log_checkpoint(ServiceContext& c) {
  const auto ends = c.db().with([](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    return audit::chain_ends(tx);
  });
  spdlog::info("audit checkpoint: head seq {} hash {} (anchor seq {})", ends.head_seq,
               hex_encode(ends.head_hash), ends.anchor_seq);
}

// The retention: records older than `days` removed, one chunk per pool call (each under the pool's
// deadlines), at most a million records a call. Returns how many were removed.
int64_t prune_expired(ServiceContext& c, int days) {
  int64_t removed = 0;
  for (int i = 0; i < 100; ++i) {
    const int64_t n = c.db().with([&](pqxx::connection& conn) { return audit::prune_step(conn, days); });
    removed += n;
    if (n == 0) break;  // a step removes whole blocks: fewer than its chunk does not mean the end
  }
  const int dropped = c.db().with([](pqxx::connection& conn) { return audit::drop_pruned_partitions(conn); });
  if (dropped > 0) spdlog::info("audit retention: {} emptied partition(s) dropped", dropped);
  return removed;
}

}  // namespace

void add_audit_routes(ServiceContext& ctx, TokenAuth& auth) {
  ServiceContext* c = &ctx;
  ctx.router().add("GET", "/api/admin/audit",
                   auth.protect([c](net::Request& req, const identity::VerifiedToken& t) {
                     return answer_audit_query(*c, req, t);
                   }));

  // Hourly: a checkpoint of the head in the log; the retention when a day has passed since the last prune.
  const int days = ctx.settings().audit.retention_days;
  auto last = std::make_shared<std::atomic<int64_t>>(0);
  ctx.keep(std::make_shared<Periodic>(
      std::chrono::hours(1),
      [c, days, last] {
        if (!c->schema_ready()) return;
        log_checkpoint(*c);
        if (audit_now_ms() - last->load() < 23 * 3'600'000LL) return;
        const int64_t removed = prune_expired(*c, days);
        last->store(audit_now_ms());
        if (removed > 0)
          spdlog::info(
              "audit retention: {} record(s) older than {} days removed; the chain is anchored at the "
              "last of them",
              removed, days);
      },
      [](const std::string& err) {
        spdlog::warn("audit retention failed (retried within the hour): {}", err);
      },
      true));
}

}  // namespace dive::services
