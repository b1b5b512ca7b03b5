#include "identity/pg_revocation_outbox.hpp"

#include <pqxx/pqxx>

#include "store/pg_pool.hpp"

namespace dive::identity {

int64_t PgRevocationOutbox::add(const RevocationEvent& e) {
  return db_.with([&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto r = tx.exec_params1(
        "INSERT INTO revocation_outbox (kind, subject, value, revoked_at_ms, instance) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
        std::string(to_string(e.kind)), e.id, e.value, e.revoked_at_ms, e.instance);
    tx.commit();
    return r[0].as<int64_t>();
  });
}

std::vector<RevocationOutbox::Row> PgRevocationOutbox::pending(size_t limit) {
  return db_.with([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(
        "SELECT id, kind, subject, value, revoked_at_ms, instance FROM revocation_outbox "
        "ORDER BY id LIMIT $1",
        static_cast<int64_t>(limit));
    std::vector<Row> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      RevocationEvent e;
      e.kind =
          row[1].as<std::string>() == "token" ? RevocationEvent::Kind::Token : RevocationEvent::Kind::User;
      e.id = row[2].as<std::string>();
      e.value = row[3].as<int64_t>();
      e.revoked_at_ms = row[4].as<int64_t>();
      e.instance = row[5].as<std::string>();
      out.push_back({row[0].as<int64_t>(), std::move(e)});
    }
    return out;
  });
}

void PgRevocationOutbox::remove(int64_t id) {
  db_.with([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec_params("DELETE FROM revocation_outbox WHERE id = $1", id);
    return 0;
  });
}

}  // namespace dive::identity
