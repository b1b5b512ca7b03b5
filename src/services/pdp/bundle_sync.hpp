#pragma once
// Keeps the pdp's data bundle in step with its instance database: the active revision is polled (a cheap
// query) and a new one is loaded, validated and swapped in; a bad one is refused and the previous stays.
// The last good bundle is cached on disk, so a pdp that starts while its database is down still decides
// with the bundle it had; with neither, it starts on the built-in tables (source "built-in").
//
// Thread-safe: status() is served to request threads while the poller's thread installs bundles; mu_
// guards what status() reports (the bundle itself is swapped atomically in the BundleHolder).
#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/mutex.hpp"
#include "common/periodic.hpp"
#include "policy/bundle_holder.hpp"

namespace dive::store {
class PgPool;
}

namespace dive::services::pdp {

class PdpApi;

class BundleSync {
 public:
  BundleSync(store::PgPool& db, policy::BundleHolder& holder, PdpApi& api, std::filesystem::path cache_file,
             Millis poll_every, Clock& clock);
  ~BundleSync();
  void start();
  Json status() const;

 private:
  void poll_once();
  void installed(const std::string& source, bool ok, const std::string& error);

  store::PgPool& db_;
  policy::BundleHolder& holder_;
  PdpApi& api_;
  std::filesystem::path cache_file_;
  Millis poll_every_;
  Clock& clock_;
  mutable Mutex mu_;
  std::string source_ GUARDED_BY(mu_);
  std::string last_error_ GUARDED_BY(mu_);
  SystemTime loaded_at_ GUARDED_BY(mu_);
  SystemTime checked_at_ GUARDED_BY(mu_);
  std::unique_ptr<Periodic> poller_;  // last: stopped first
};

}  // namespace dive::services::pdp
