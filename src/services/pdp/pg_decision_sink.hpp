#pragma once
// Decision log sink writing to the instance database's `decisions` table (COPY, one batch per
// transaction) through the pool (which runs it behind the "database" breaker and under its deadlines).
#include "policy/decision_log.hpp"

namespace dive::store {
class PgPool;
}

namespace dive::services::pdp {

class PgDecisionSink final : public policy::DecisionSink {
 public:
  explicit PgDecisionSink(store::PgPool& db) : db_(db) {}
  void write(const std::vector<policy::DecisionRecord>& batch) override;

 private:
  store::PgPool& db_;
};

}  // namespace dive::services::pdp
