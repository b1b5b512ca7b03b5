#include "services/pdp/pg_decision_sink.hpp"

#include <pqxx/pqxx>

#include <ctime>

#include "store/pg_pool.hpp"

namespace dive::services::pdp {

namespace {
std::string timestamp_text(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[48];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%03lld+00", buf, static_cast<long long>(ms % 1000));
  return out;
}
}  // namespace

void PgDecisionSink::write(const std::vector<policy::DecisionRecord>& batch) {
  db_.with([&](pqxx::connection& c) {
    pqxx::work tx(c);
    // The log is written off the request path in batches; waiting for the WAL flush buys nothing here.
    tx.exec("SET LOCAL synchronous_commit = off");
    pqxx::stream_to s(tx, "decisions",
                      std::vector<std::string>{"decided_at", "request_id", "query", "input_hash", "allow",
                                               "reason", "latency_us", "bundle_revision"});
    for (const auto& r : batch)
      s << std::make_tuple(timestamp_text(r.decided_at_ms), r.request_id, r.query, "\\x" + r.input_hash,
                           r.allow, r.reason, r.latency_us, r.bundle_revision);  // bytea in hex form
    s.complete();
    tx.commit();
    return 0;
  });
}

}  // namespace dive::services::pdp
