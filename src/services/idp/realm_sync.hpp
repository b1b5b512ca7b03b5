#pragma once
// Keeps a running idp in step with its database: on the first pass after the schema is ready it
// registers the clients, makes sure there is an active signing key and seeds the users (idempotent);
// on every pass it reloads the signing keys and the clients, so `./dive hub keys rotate` takes effect
// within one poll interval without a restart.
//
// Thread-safe: ready() and status() are asked by request threads while the poller's thread runs
// poll_once() (the key ring and the client cache lock themselves); the flags are atomics, mu_ guards the
// last error.
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "common/json.hpp"
#include "common/mutex.hpp"
#include "common/periodic.hpp"

namespace dive::identity::idp {
struct IdpConfig;
class KeyRing;
class ClientCache;
}  // namespace dive::identity::idp
namespace dive::store {
class PgPool;
}

namespace dive::audit {
class Recorder;
}

namespace dive::services::idp {

class RealmSync {
 public:
  // `audit`: where the realm's changes are recorded (the users and the first signing key it creates).
  RealmSync(const identity::idp::IdpConfig& cfg, store::PgPool& db, identity::idp::KeyRing& keys,
            identity::idp::ClientCache& clients, std::function<bool()> schema_ready,
            audit::Recorder* audit = nullptr);
  ~RealmSync();
  void start();
  void poll_once();
  bool ready() const { return initialised_ && has_key_; }
  Json status() const;

 private:
  void initialise();

  const identity::idp::IdpConfig& cfg_;
  store::PgPool& db_;
  audit::Recorder* audit_ = nullptr;
  identity::idp::KeyRing& keys_;
  identity::idp::ClientCache& clients_;
  std::function<bool()> schema_ready_;
  std::atomic<bool> initialised_{false}, has_key_{false};
  std::atomic<int> seeded_{0};
  mutable Mutex mu_;
  std::string last_error_ GUARDED_BY(mu_);
  std::unique_ptr<Periodic> poller_;  // last: stopped first
};

}  // namespace dive::services::idp
