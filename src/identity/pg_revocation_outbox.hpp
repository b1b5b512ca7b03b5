#pragma once
// The revocation outbox in the instance database (migration 004_revocation.sql).
#include "identity/revocation_backend.hpp"

namespace dive::store {
class PgPool;
}

namespace dive::identity {

class PgRevocationOutbox final : public RevocationOutbox {
 public:
  explicit PgRevocationOutbox(store::PgPool& db) : db_(db) {}
  int64_t add(const RevocationEvent& e) override;
  std::vector<Row> pending(size_t limit) override;
  void remove(int64_t id) override;

 private:
  store::PgPool& db_;
};

}  // namespace dive::identity
