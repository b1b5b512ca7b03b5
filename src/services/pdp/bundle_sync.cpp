#include "services/pdp/bundle_sync.hpp"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>

#include "common/fs.hpp"
#include "common/mutex.hpp"
#include "policy/bundle.hpp"
#include "policy/bundle_store.hpp"
#include "services/pdp/pdp_api.hpp"
#include "store/pg_pool.hpp"

namespace dive::services::pdp {

BundleSync::BundleSync(store::PgPool& db, policy::BundleHolder& holder, PdpApi& api,
                       std::filesystem::path cache_file, Millis poll_every, Clock& clock)
    : db_(db),
      holder_(holder),
      api_(api),
      cache_file_(std::move(cache_file)),
      poll_every_(poll_every),
      clock_(clock) {}

BundleSync::~BundleSync() {
  poller_.reset();
}

void BundleSync::installed(const std::string& source, bool ok, const std::string& error) {
  {
    MutexLock lock(mu_);
    if (ok) {
      source_ = source;
      loaded_at_ = clock_.wall();
      last_error_.clear();
    } else {
      last_error_ = error;
    }
  }
  api_.bundle_loaded(ok);
  if (ok) api_.bundle_source(source);
  if (ok)
    spdlog::info("policy bundle {} active (from {})", holder_.revision().substr(0, 12), source);
  else
    spdlog::error("policy bundle refused ({}); keeping revision {}", error, holder_.revision().substr(0, 12));
}

void BundleSync::start() {
  // Before the first poll: the cached bundle, or the built-in tables, so that decisions never wait.
  std::string err;
  if (holder_.load_file(cache_file_, &err))
    installed("cache", true, "");
  else if (holder_.replace(policy::default_bundle()))
    installed("built-in", true, "");
  poller_ = std::make_unique<Periodic>(
      poll_every_, [this] { poll_once(); },
      [this](const std::string& e) {
        // The database is down: keep deciding with what we have.
        MutexLock lock(mu_);
        last_error_ = "cannot read the active bundle: " + e;
      },
      true);
}

void BundleSync::poll_once() {
  std::string active;
  db_.with([&](pqxx::connection& c) {
    active = policy::active_bundle_revision(c);
    return 0;
  });
  const auto now = clock_.wall();
  {
    MutexLock lock(mu_);
    checked_at_ = now;
  }
  api_.bundle_checked(now);
  if (active.empty() || active == holder_.revision()) return;
  std::optional<policy::StoredBundle> stored;
  db_.with([&](pqxx::connection& c) {
    stored = policy::load_active_bundle(c);
    return 0;
  });
  if (!stored) return;
  std::string err;
  if (holder_.replace(stored->content, &err)) {
    installed("database (" + stored->source + ")", true, "");
    try {
      write_file_atomic(cache_file_, stored->content.dump(), 0600);
    } catch (const std::exception& e) {
      spdlog::warn("cannot cache the policy bundle: {}", e.what());
    }
  } else {
    installed("database", false, "revision " + active.substr(0, 12) + ": " + err);
  }
}

Json BundleSync::status() const {
  auto ms = [](SystemTime t) {
    return t.time_since_epoch().count() == 0
               ? Json(nullptr)
               : Json(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  };
  MutexLock lock(mu_);
  Json j = {{"revision", holder_.revision()},
            {"source", source_},
            {"loadedAt", ms(loaded_at_)},
            {"checkedAt", ms(checked_at_)},
            {"lastError", last_error_.empty() ? Json(nullptr) : Json(last_error_)}};
  if (auto b = holder_.current()) j["summary"] = policy::bundle_summary(*b);
  return j;
}

}  // namespace dive::services::pdp
