#pragma once
// Decision log sink writing to the instance database's `decisions` table (COPY, one batch per
// transaction) through the pool and its breaker.
#include "policy/decision_log.hpp"

namespace dive::store {
class PgPool;
}
namespace dive::resilience {
class CircuitBreaker;
}

namespace dive::services::pdp {

class PgDecisionSink final : public policy::DecisionSink {
 public:
  PgDecisionSink(store::PgPool& db, resilience::CircuitBreaker& breaker) : db_(db), breaker_(breaker) {}
  void write(const std::vector<policy::DecisionRecord>& batch) override;

 private:
  store::PgPool& db_;
  resilience::CircuitBreaker& breaker_;
};

}  // namespace dive::services::pdp
