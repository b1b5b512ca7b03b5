#include "identity/revocation_mirror.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/encoding.hpp"
#include "common/mutex.hpp"
#include "metrics/registry.hpp"

namespace dive::identity {

namespace {
using Kind = RevocationEvent::Kind;

int kind_index(Kind k) {
  return k == Kind::Token ? 0 : 1;
}
int64_t steady_ns(SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
constexpr RevocationSource kSources[] = {RevocationSource::Local, RevocationSource::PubSub,
                                         RevocationSource::Resync, RevocationSource::Outbox};
}  // namespace

std::string revocation_ref(std::string_view id) {
  return sha256_hex(id).substr(0, 16);
}

std::string_view to_string(RevocationSource s) {
  switch (s) {
    case RevocationSource::Local:
      return "local";
    case RevocationSource::PubSub:
      return "pubsub";
    case RevocationSource::Resync:
      return "resync";
    case RevocationSource::Outbox:
      return "outbox";
  }
  return "unknown";
}

RevocationMirror::RevocationMirror(MirrorConfig cfg, Clock& clock, metrics::Registry* registry)
    : cfg_(cfg), clock_(clock), last_sync_ns_(steady_ns(clock.now())), registry_(registry) {
  if (!registry_) return;
  auto& total = registry_->counter(
      "dive_v3_revocations_total",
      "Revocations new to this process's mirror, by kind and by how they arrived", {"kind", "source"});
  auto& size =
      registry_->gauge("dive_v3_revocation_mirror_size", "Entries in the revocation mirror", {"kind"});
  for (Kind k : {Kind::Token, Kind::User}) {
    for (RevocationSource s : kSources)
      m_new_[kind_index(k)][static_cast<int>(s)] =
          &total.labels({std::string(to_string(k)), std::string(to_string(s))});
    m_size_[kind_index(k)] = &size.labels({std::string(to_string(k))});
  }
  m_age_ = &registry_
                ->gauge("dive_v3_revocation_mirror_age_seconds",
                        "Seconds since the revocation mirror last synchronised or received an event")
                .unlabelled();
  registry_
      ->gauge("dive_v3_revocation_mirror_max_staleness_seconds",
              "Mirror age beyond which tokens are refused (revocation.max_staleness_s)")
      .unlabelled()
      .set(static_cast<double>(cfg_.max_staleness.count()) / 1000.0);
  m_propagation_ =
      &registry_
           ->histogram("dive_v3_revocation_propagation_seconds",
                       "Delay from a revocation to its arrival in this process's mirror", {},
                       {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300})
           .unlabelled();
}

bool RevocationMirror::is_revoked(const std::string& jti, const std::string& unique_id,
                                  int64_t issued_ms) const {
  ReaderLock lock(mu_);
  if (!jti.empty() && tokens_.count(jti)) return true;
  if (!unique_id.empty()) {
    auto it = users_.find(unique_id);
    if (it != users_.end() && issued_ms < it->second.value) return true;
  }
  return false;
}

bool RevocationMirror::merge(Map& map, const RevocationEvent& e, SteadyTime now) const {
  auto [it, inserted] = map.try_emplace(e.id, Entry{e.value, e.revoked_at_ms, now});
  if (inserted) return true;
  Entry& cur = it->second;
  cur.applied = now;
  // Tokens: the exp of a jti does not change. Users: the largest threshold wins.
  if (e.kind == Kind::User && e.value > cur.value) {
    cur.value = e.value;
    cur.revoked_at_ms = e.revoked_at_ms;
    return true;
  }
  return false;
}

void RevocationMirror::note_new(const RevocationEvent& e, RevocationSource source) {
  if (m_new_[0][0]) m_new_[kind_index(e.kind)][static_cast<int>(source)]->inc();
  const int64_t now_ms = clock_.unix_millis();
  // No jti or uniqueID in the status (it is served without authentication): a short hash to match on.
  Json j{{"kind", to_string(e.kind)},    {"ref", revocation_ref(e.id)}, {"instance", e.instance},
         {"revokedAt", e.revoked_at_ms}, {"source", to_string(source)}, {"receivedAt", now_ms}};
  if (e.revoked_at_ms > 0) {
    int64_t delay_ms = std::max<int64_t>(0, now_ms - e.revoked_at_ms);
    j["propagationMs"] = delay_ms;
    // Only what travelled counts as propagation (our own revocations are in the mirror at once), and
    // not the initial load of entries made long before this process started.
    bool travelled = source == RevocationSource::PubSub || synced_once_.load();
    if (m_propagation_ && source != RevocationSource::Local && travelled)
      m_propagation_->observe(static_cast<double>(delay_ms) / 1000.0);
  }
  recent_.push_back(std::move(j));
  while (recent_.size() > cfg_.recent_events) recent_.pop_front();
}

bool RevocationMirror::apply(const RevocationEvent& e, RevocationSource source) {
  if (e.id.empty()) return false;
  const auto now = clock_.now();
  bool changed;
  {
    WriterLock lock(mu_);
    changed = merge(e.kind == Kind::Token ? tokens_ : users_, e, now);
    if (changed) {
      note_new(e, source);
      set_size_gauges();
      ++generation_;
    }
  }
  if (source == RevocationSource::PubSub) {
    last_sync_ns_ = steady_ns(now);
    last_sync_wall_ms_ = clock_.unix_millis();
  }
  return changed;
}

std::vector<RevocationEvent> RevocationMirror::reconcile(const std::vector<RevocationEvent>& snapshot,
                                                         SteadyTime started) {
  const auto now = clock_.now();
  const int64_t now_ms = clock_.unix_millis();
  Map tokens, users;  // the snapshot, one entry per id (the largest value)
  for (const auto& e : snapshot)
    if (!e.id.empty()) merge(e.kind == Kind::Token ? tokens : users, e, now);
  std::vector<RevocationEvent> missing;
  WriterLock lock(mu_);
  const bool first = !synced_once_.load();
  for (Kind k : {Kind::Token, Kind::User}) {
    Map& mine = k == Kind::Token ? tokens_ : users_;
    const Map& theirs = k == Kind::Token ? tokens : users;
    // Entries the mirror did not have were missed by the subscription (or this is the first load).
    for (const auto& [id, entry] : theirs) {
      auto it = mine.find(id);
      if (it != mine.end() && it->second.value >= entry.value) continue;
      if (first) {
        if (m_new_[0][0]) m_new_[kind_index(k)][static_cast<int>(RevocationSource::Resync)]->inc();
      } else {
        note_new(RevocationEvent{k, id, entry.value, entry.revoked_at_ms, ""}, RevocationSource::Resync);
      }
      mine[id] = entry;
      ++generation_;
    }
    // Entries the store lacks. What was applied while the snapshot was read may simply be newer than it;
    // what expires within a second would be gone before it is written back.
    for (const auto& [id, entry] : mine) {
      if (entry.applied >= started) continue;
      auto it = theirs.find(id);
      if (it != theirs.end() && it->second.value >= entry.value) continue;
      const int64_t ends_ms =
          k == Kind::Token ? entry.value * 1000 : entry.value + cfg_.user_retention.count();
      if (ends_ms <= now_ms + 1000) continue;
      missing.push_back(RevocationEvent{k, id, entry.value, entry.revoked_at_ms, ""});
    }
  }
  set_size_gauges();
  lock.unlock();
  mark_synced(now);
  return missing;
}

void RevocationMirror::mark_synced(SteadyTime at) {
  last_sync_ns_ = steady_ns(at);
  last_sync_wall_ms_ = clock_.unix_millis();
  synced_once_ = true;
  has_baseline_ = true;
}

Json RevocationMirror::snapshot() const {
  ReaderLock lock(mu_);
  Json tokens = Json::array(), users = Json::array();
  for (const auto& [id, e] : tokens_) tokens.push_back(Json::array({id, e.value, e.revoked_at_ms}));
  for (const auto& [id, e] : users_) users.push_back(Json::array({id, e.value, e.revoked_at_ms}));
  const int64_t last = has_baseline_.load() ? last_sync_wall_ms_.load() : 0;
  return Json{{"version", 1},
              {"lastSyncAt", last > 0 ? Json(last) : Json(nullptr)},
              {"tokens", std::move(tokens)},
              {"users", std::move(users)}};
}

size_t RevocationMirror::restore(const Json& copy) {
  auto bad = [](const std::string& why) { return std::invalid_argument("revocation mirror copy: " + why); };
  if (!copy.is_object() || copy.value("version", 0) != 1) throw bad("not a version 1 copy");
  std::vector<RevocationEvent> events;
  for (Kind k : {Kind::Token, Kind::User}) {
    const Json& list = copy.value(k == Kind::Token ? "tokens" : "users", Json::array());
    if (!list.is_array()) throw bad("entries are not a list");
    for (const auto& row : list) {
      if (!row.is_array() || row.size() != 3 || !row[0].is_string() || !row[1].is_number_integer() ||
          !row[2].is_number_integer())
        throw bad("an entry is not [id, value, revokedAt]");
      events.push_back(
          RevocationEvent{k, row[0].get<std::string>(), row[1].get<int64_t>(), row[2].get<int64_t>(), ""});
    }
  }
  const Json& last = copy.value("lastSyncAt", Json(nullptr));
  if (!last.is_null() && !last.is_number_integer()) throw bad("lastSyncAt is not a time");
  const auto now = clock_.now();
  const int64_t now_ms = clock_.unix_millis();
  size_t merged = 0;
  {
    WriterLock lock(mu_);
    for (const auto& e : events) {
      const int64_t ends_ms = e.kind == Kind::Token ? e.value * 1000 + cfg_.token_grace.count()
                                                    : e.value + cfg_.user_retention.count();
      if (e.id.empty() || ends_ms < now_ms) continue;
      if (merge(e.kind == Kind::Token ? tokens_ : users_, e, SteadyTime{})) ++merged;
    }
    set_size_gauges();
    if (merged) ++generation_;
  }
  if (last.is_number_integer() && !has_baseline_.load()) {
    const int64_t ago_ms = std::max<int64_t>(0, now_ms - last.get<int64_t>());
    last_sync_ns_ = steady_ns(now - Millis(ago_ms));
    last_sync_wall_ms_ = last.get<int64_t>();
    has_baseline_ = true;
  }
  return merged;
}

size_t RevocationMirror::prune() {
  const int64_t now_ms = clock_.unix_millis();
  size_t n = 0;
  WriterLock lock(mu_);
  n += std::erase_if(
      tokens_, [&](const auto& kv) { return kv.second.value * 1000 + cfg_.token_grace.count() < now_ms; });
  n += std::erase_if(users_,
                     [&](const auto& kv) { return kv.second.value + cfg_.user_retention.count() < now_ms; });
  set_size_gauges();
  return n;
}

Millis RevocationMirror::age() const {
  auto last = SteadyTime{std::chrono::nanoseconds{last_sync_ns_.load()}};
  return std::max(Millis{0}, std::chrono::duration_cast<Millis>(clock_.now() - last));
}

size_t RevocationMirror::size(Kind kind) const {
  ReaderLock lock(mu_);
  return kind == Kind::Token ? tokens_.size() : users_.size();
}

void RevocationMirror::set_size_gauges() {
  if (!m_size_[0]) return;
  m_size_[0]->set(static_cast<double>(tokens_.size()));
  m_size_[1]->set(static_cast<double>(users_.size()));
}

void RevocationMirror::update_gauges() {
  if (m_age_) m_age_->set(static_cast<double>(age().count()) / 1000.0);
}

Json RevocationMirror::status() const {
  ReaderLock lock(mu_);
  Json recent = Json::array();
  for (const auto& j : recent_) recent.push_back(j);
  const auto a = age();
  return Json{{"tokens", tokens_.size()},
              {"users", users_.size()},
              {"ageSeconds", static_cast<double>(a.count()) / 1000.0},
              {"stale", a > cfg_.max_staleness},
              {"maxStalenessSeconds", static_cast<double>(cfg_.max_staleness.count()) / 1000.0},
              {"syncedOnce", synced_once_.load()},
              {"lastSyncAt", last_sync_wall_ms_.load() ? Json(last_sync_wall_ms_.load()) : Json(nullptr)},
              {"lastEvent", recent_.empty() ? Json(nullptr) : recent_.back()},
              {"recentEvents", std::move(recent)}};
}

}  // namespace dive::identity
