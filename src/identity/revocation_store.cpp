#include "identity/revocation_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "common/mutex.hpp"
#include "identity/log_safe.hpp"
#include "identity/revocation_mirror.hpp"
#include "metrics/registry.hpp"

namespace dive::identity {

namespace {
constexpr RevocationStore::Outcome kOutcomes[] = {
    RevocationStore::Outcome::Pushed, RevocationStore::Outcome::Queued, RevocationStore::Outcome::Held,
    RevocationStore::Outcome::Expired};
}  // namespace

std::string_view RevocationStore::to_string(Outcome o) {
  switch (o) {
    case Outcome::Pushed:
      return "pushed";
    case Outcome::Queued:
      return "queued";
    case Outcome::Held:
      return "held";
    case Outcome::Expired:
      return "expired";
  }
  return "unknown";
}

RevocationStore::RevocationStore(BlacklistBackend& shared, RevocationOutbox& outbox, RevocationMirror* mirror,
                                 Clock& clock, RevocationStoreConfig cfg, metrics::Registry* registry)
    : shared_(shared), outbox_(outbox), mirror_(mirror), clock_(clock), cfg_(std::move(cfg)) {
  if (!registry) return;
  auto& fam = registry->counter("dive_v3_revocation_writes_total",
                                "Revocations made by this process, by what happened to them", {"outcome"});
  for (auto o : kOutcomes) m_outcome_[static_cast<int>(o)] = &fam.labels({std::string(to_string(o))});
  m_pending_ = &registry
                    ->gauge("dive_v3_revocation_outbox_pending",
                            "Revocations not yet in the shared blacklist (outbox and memory)")
                    .unlabelled();
}

bool RevocationStore::expired(const RevocationEvent& e) const {
  const int64_t now = clock_.unix_millis();
  return e.kind == RevocationEvent::Kind::Token ? e.value * 1000 <= now
                                                : e.value + cfg_.user_retention.count() <= now;
}

RevocationStore::Outcome RevocationStore::submit_token(const std::string& jti, int64_t exp_s) {
  return submit(RevocationEvent::token(jti, exp_s, clock_.unix_millis(), cfg_.instance));
}

RevocationStore::Outcome RevocationStore::submit_user(const std::string& unique_id, int64_t at_ms) {
  return submit(RevocationEvent::user(unique_id, at_ms, clock_.unix_millis(), cfg_.instance));
}

RevocationStore::Outcome RevocationStore::submit(const RevocationEvent& e) {
  if (e.id.empty()) throw std::invalid_argument("a revocation needs a jti or a uniqueID");
  auto done = [&](Outcome o) {
    if (m_outcome_[0]) m_outcome_[static_cast<int>(o)]->inc();
    return o;
  };
  if (mirror_) mirror_->apply(e, RevocationSource::Local);  // enforced here at once, whatever follows
  if (expired(e)) return done(Outcome::Expired);
  try {
    shared_.push(e, cfg_.user_retention);
    return done(Outcome::Pushed);
  } catch (const std::exception& ex) {
    spdlog::warn("revocation of {} {} not pushed to the shared blacklist ({}); keeping it locally",
                 identity::to_string(e.kind), log_safe(e.id), ex.what());
    MutexLock lock(mu_);
    last_error_ = ex.what();
  }
  try {
    int64_t id = outbox_.add(e);
    MutexLock lock(mu_);
    durable_.push_back({id, e});
    set_gauge();
    return done(Outcome::Queued);
  } catch (const std::exception& ex) {
    spdlog::error("revocation of {} {} kept in memory only: the outbox is unreachable too ({})",
                  identity::to_string(e.kind), log_safe(e.id), ex.what());
    MutexLock lock(mu_);
    held_.push_back(e);
    set_gauge();
    return done(Outcome::Held);
  }
}

size_t RevocationStore::flush() {
  std::optional<std::vector<RevocationOutbox::Row>> rows;
  try {
    rows = outbox_.pending(cfg_.flush_batch);
  } catch (const std::exception& ex) {
    spdlog::debug("revocation outbox not readable: {}", ex.what());
  }
  bool push_ok = true;
  auto push = [&](const RevocationEvent& e) {
    if (!push_ok) return false;
    if (expired(e)) return true;
    try {
      shared_.push(e, cfg_.user_retention);
      return true;
    } catch (const std::exception& ex) {
      push_ok = false;
      MutexLock lock(mu_);
      last_error_ = ex.what();
      return false;
    }
  };
  std::vector<RevocationOutbox::Row> still;
  if (rows) {
    for (const auto& row : *rows) {
      if (mirror_) mirror_->apply(row.event, RevocationSource::Outbox);
      bool removed = false;
      if (push(row.event)) {
        try {
          outbox_.remove(row.id);
          removed = true;
        } catch (const std::exception& ex) {
          spdlog::debug("revocation outbox row {} pushed but not removed yet: {}", row.id, ex.what());
        }
      }
      if (!removed) still.push_back(row);
    }
  }
  std::vector<RevocationEvent> held;
  {
    MutexLock lock(mu_);
    held.swap(held_);
  }
  std::vector<RevocationEvent> still_held;
  for (auto& e : held) {
    if (push(e)) continue;
    try {
      still.push_back({outbox_.add(e), e});
    } catch (const std::exception&) {
      still_held.push_back(std::move(e));
    }
  }
  MutexLock lock(mu_);
  if (rows) {
    durable_ = std::move(still);
  } else {
    // The outbox could not be read: keep what we knew of it.
    durable_.insert(durable_.end(), still.begin(), still.end());
  }
  held_.insert(held_.begin(), std::make_move_iterator(still_held.begin()),
               std::make_move_iterator(still_held.end()));
  if (push_ok && !last_error_.empty() && durable_.empty() && held_.empty()) last_error_.clear();
  last_flush_ms_ = clock_.unix_millis();
  set_gauge();
  return durable_.size() + held_.size();
}

size_t RevocationStore::pending() const {
  MutexLock lock(mu_);
  return durable_.size() + held_.size();
}

std::vector<RevocationEvent> RevocationStore::pending_events() const {
  MutexLock lock(mu_);
  std::vector<RevocationEvent> out;
  out.reserve(durable_.size() + held_.size());
  for (const auto& r : durable_) out.push_back(r.event);
  out.insert(out.end(), held_.begin(), held_.end());
  return out;
}

Json RevocationStore::status() const {
  MutexLock lock(mu_);
  return Json{{"outboxPending", durable_.size()},
              {"heldInMemory", held_.size()},
              {"lastPushError", last_error_.empty() ? Json(nullptr) : Json(last_error_)},
              {"lastFlushAt", last_flush_ms_ ? Json(last_flush_ms_) : Json(nullptr)}};
}

void RevocationStore::set_gauge() {
  if (m_pending_) m_pending_->set(static_cast<double>(durable_.size() + held_.size()));
}

}  // namespace dive::identity
