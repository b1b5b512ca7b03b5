#pragma once
// In-memory stand-ins for the shared blacklist and the outbox, each of which can be switched "down".
#include <map>
#include <stdexcept>
#include <vector>

#include "identity/revocation_backend.hpp"

namespace dive::identity::testing {

class FakeBlacklist final : public BlacklistBackend {
 public:
  bool down = false;
  std::vector<RevocationEvent> published;
  std::map<std::string, RevocationEvent> keys;  // by key

  void push(const RevocationEvent& e, Millis) override {
    if (down) throw std::runtime_error("blacklist down");
    auto [it, inserted] = keys.try_emplace(e.key(), e);
    if (!inserted && e.kind == RevocationEvent::Kind::User && e.value > it->second.value) it->second = e;
    published.push_back(e);
  }
  std::vector<RevocationEvent> snapshot() override {
    if (down) throw std::runtime_error("blacklist down");
    std::vector<RevocationEvent> out;
    for (const auto& [k, e] : keys) out.push_back(e);
    return out;
  }
};

class FakeOutbox final : public RevocationOutbox {
 public:
  bool down = false;
  bool remove_fails = false;  // a row can be read but not deleted (connection lost in between, say)
  std::map<int64_t, RevocationEvent> rows;
  int64_t next = 1;

  int64_t add(const RevocationEvent& e) override {
    if (down) throw std::runtime_error("database down");
    rows[next] = e;
    return next++;
  }
  std::vector<Row> pending(size_t limit) override {
    if (down) throw std::runtime_error("database down");
    std::vector<Row> out;
    for (const auto& [id, e] : rows) {
      if (out.size() == limit) break;
      out.push_back({id, e});
    }
    return out;
  }
  void remove(int64_t id) override {
    if (down || remove_fails) throw std::runtime_error("database down");
    rows.erase(id);
  }
};

}  // namespace dive::identity::testing
