#pragma once
// Migration 008's audit_append(), as a process of the previous version calls it (during an upgrade): the
// batch as one PostgreSQL array literal per field, hashed by the database. For the tests that hold both
// versions to one chain and for the append benchmark (bench/audit).
#include <pqxx/pqxx>

#include <string>
#include <vector>

#include "audit/event.hpp"

namespace dive::testing {

inline int64_t append_with_sql_hashes(pqxx::transaction_base& tx, const std::vector<audit::Event>& batch) {
  using audit::Event;
  std::vector<std::string> a(11, "{");
  const std::string Event::*fields[] = {
      &Event::type,     &Event::actor,   &Event::actor_issuer, &Event::source_ip,  &Event::service,
      &Event::resource, &Event::outcome, &Event::reason,       &Event::request_id, &Event::details};
  for (size_t i = 0; i < batch.size(); ++i) {
    if (i > 0)
      for (auto& s : a) s += ',';
    a[0] += std::to_string(batch[i].at_ms);
    for (size_t f = 0; f < 10; ++f) {
      a[f + 1] += '"';
      for (char ch : batch[i].*fields[f]) {
        if (ch == '"' || ch == '\\') a[f + 1] += '\\';
        a[f + 1] += ch;
      }
      a[f + 1] += '"';
    }
  }
  for (auto& s : a) s += '}';
  return tx
      .exec_params1(
          "SELECT audit_append($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
          "$7::text[], $8::text[], $9::text[], $10::text[], $11::text[])",
          a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10])[0]
      .as<int64_t>();
}

}  // namespace dive::testing
