#pragma once
// When the kas reads its keys from the database again (docs/DOCUMENTS.md): a periodic task loads them until
// some are loaded and then every 30 s, so a rotation needs no restart; a request for an unknown kid (a
// rotation made moments ago) re-reads them at once, at most once a second, so a document wrapped to a new
// key never waits for the periodic refresh. Time comes from the clock given (a fake one in unit tests).
// Thread-safe: request threads re-read under one lock (a second request for the same new kid waits for the
// first one's re-read), the periodic task refreshes under another.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/mutex.hpp"
#include "documents/kas_key_cache.hpp"

namespace dive::documents {

struct KasKeyRefresh {
  Millis retry_every{2000};     // the periodic task's interval: a failed or empty load is retried this often
  Millis refresh_every{30000};  // once loaded, the keys are read again this often
  Millis reread_at_most{1000};  // an unknown kid re-reads the keys at most this often
};

class KasKeyReader {
 public:
  // Reads the keys from the database into the cache (KasKeyCache::refresh over a connection); throws on
  // failure.
  using Load = std::function<void(KasKeyCache&)>;

  KasKeyReader(KasKeyCache& keys, Load load, Clock& clock = Clock::system(), KasKeyRefresh timing = {});

  // The private key of `kid`. An unknown one re-reads the keys first, unless that was done less than
  // reread_at_most ago (the caller then gets what is loaded); a failed re-read is logged. Null when the kid
  // is still unknown.
  std::shared_ptr<const ztdf::PrivateKey> private_key(const std::string& kid);
  // The periodic task, run every retry_every: loads the keys when none are loaded yet or the last load is
  // refresh_every old. Throws when the load fails (it is then tried again at the next run).
  void refresh_if_due();
  const KasKeyRefresh& timing() const { return timing_; }

 private:
  KasKeyCache& keys_;
  Load load_;
  Clock& clock_;
  KasKeyRefresh timing_;
  Mutex reread_mu_;  // held through a re-read
  std::optional<SteadyTime> last_reread_ GUARDED_BY(reread_mu_);
  Mutex refresh_mu_;
  SteadyTime last_refresh_ GUARDED_BY(refresh_mu_);  // the last successful periodic load
};

}  // namespace dive::documents
