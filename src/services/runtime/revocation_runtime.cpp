#include "services/runtime/revocation_runtime.hpp"

#include <spdlog/spdlog.h>

#include "common/fs.hpp"
#include "common/mutex.hpp"
#include "identity/pg_revocation_outbox.hpp"
#include "identity/redis_blacklist.hpp"
#include "identity/revocation_limits.hpp"
#include "identity/revocation_mirror.hpp"
#include "identity/revocation_store.hpp"
#include "identity/revocation_sync.hpp"
#include "metrics/registry.hpp"
#include "services/runtime/service_context.hpp"
#include "store/redis_client.hpp"

namespace dive::services {

using namespace std::chrono_literals;
using identity::RevocationEvent;
using identity::RevocationSource;

RevocationRuntime::RevocationRuntime(ServiceContext& ctx, RevocationRuntimeOptions opts) : ctx_(ctx) {
  const RevocationSettings& rc = ctx.settings().revocation;
  blacklist_ =
      std::make_unique<identity::RedisBlacklist>(ctx.blacklist(), ctx.breaker(Breaker::BlacklistRedis));
  outbox_ = std::make_unique<identity::PgRevocationOutbox>(ctx.db());
  if (opts.mirror) create_mirror();
  store_ = std::make_unique<identity::RevocationStore>(
      *blacklist_, *outbox_, mirror_.get(), ctx.clock(),
      identity::RevocationStoreConfig{.instance = ctx.code(), .user_retention = rc.user_retention},
      &ctx.registry());

  if (mirror_) first_sync();
  flusher_ = std::make_unique<Periodic>(
      rc.flush_interval,
      [this] {
        store_->flush();
        save_copy();
      },
      [](const std::string& e) { spdlog::warn("revocation outbox flush failed: {}", e); }, true);
  if (!mirror_) return;

  resync_ = std::make_unique<Periodic>(
      rc.resync_interval, [this] { resync(); },
      [this](const std::string& e) {
        MutexLock lock(mu_);
        if (last_resync_error_ != e)
          spdlog::warn("revocation mirror resync failed (mirror age {} ms): {}", mirror_->age().count(), e);
        last_resync_error_ = e;
      },
      true);
  start_subscriber();
  ctx.add_check("revocationMirror", resilience::Impact::Important, [this] { return mirror_check(); });
}

void RevocationRuntime::create_mirror() {
  const RevocationSettings& rc = ctx_.settings().revocation;
  identity::MirrorConfig mc;
  mc.max_staleness = rc.max_staleness;
  mc.user_retention = rc.user_retention;
  mirror_ = std::make_shared<identity::RevocationMirror>(mc, ctx_.clock(), &ctx_.registry());
  restored_ = &ctx_.registry()
                   .counter("dive_v3_revocation_restored_total",
                            "Unexpired revocations the blacklist had lost, written back by this process")
                   .unlabelled();
  if (!ctx_.settings().dir.empty())
    copy_path_ = ctx_.settings().dir + "/state/" + ctx_.service() + "-revocation-mirror.json";
  restore_copy();
  std::weak_ptr<identity::RevocationMirror> weak = mirror_;
  ctx_.registry().add_collector([weak] {
    if (auto m = weak.lock()) m->update_gauges();
  });
}

void RevocationRuntime::first_sync() {
  try {
    resync();
  } catch (const std::exception& e) {
    MutexLock lock(mu_);
    last_resync_error_ = e.what();
    spdlog::warn("revocation mirror: the blacklist is unreachable at start ({}); {}", e.what(),
                 mirror_->stale() ? "tokens are refused (503) until it answers"
                                  : "enforcing the durable copy until it answers");
  }
}

void RevocationRuntime::start_subscriber() {
  store::RedisConfig sc;
  sc.name = "blacklist-subscriber";
  sc.host = ctx_.settings().blacklist_redis.host;
  sc.port = ctx_.settings().blacklist_redis.port;
  sc.user = ctx_.secrets().value("blacklist_redis_user", "");
  sc.password = ctx_.secrets().value("blacklist_redis_password", "");
  subscriber_ = std::make_unique<store::RedisSubscriber>(
      sc, std::vector<std::string>{std::string(identity::kTokenChannel), std::string(identity::kUserChannel)},
      [this](const std::string&, const std::string& message) {
        if (auto e = RevocationEvent::parse(message)) {
          mirror_->apply(*e, RevocationSource::PubSub);
          // The durable copy follows at once, not at the next flush: a process that replaces this one (a
          // graceful restart, docs/ORCHESTRATION.md) while the blacklist is down starts from that copy.
          flusher_->wake();
        } else
          spdlog::warn("ignored a malformed revocation message ({} bytes)", message.size());
      },
      [this] { resync_->wake(); });  // whatever was missed while disconnected
  subscriber_->start();
}

resilience::CheckResult RevocationRuntime::mirror_check() const {
  const bool stale = mirror_->stale();
  return resilience::CheckResult{
      !stale, stale ? "not synchronised for " + std::to_string(mirror_->age().count() / 1000) + " s" : "",
      Json{{"ageSeconds", static_cast<double>(mirror_->age().count()) / 1000.0},
           {"maxStalenessSeconds", static_cast<double>(mirror_->config().max_staleness.count()) / 1000.0},
           {"tokens", mirror_->size(RevocationEvent::Kind::Token)},
           {"users", mirror_->size(RevocationEvent::Kind::User)},
           {"outboxPending", store_->pending()}}};
}

RevocationRuntime::~RevocationRuntime() {
  if (subscriber_) subscriber_->stop();
  subscriber_.reset();
  flusher_.reset();
  resync_.reset();
  try {
    save_copy();
  } catch (const std::exception& e) {
    spdlog::warn("revocation mirror: could not keep its copy at exit: {}", e.what());
  }
}

void RevocationRuntime::restore_copy() {
  if (copy_path_.empty()) return;
  auto text = try_read_file(copy_path_);
  if (!text) {
    spdlog::info("revocation mirror: no durable copy yet ({})", copy_path_);
    return;
  }
  try {
    const size_t n = mirror_->restore(Json::parse(*text));
    spdlog::info(
        "revocation mirror: restored {} unexpired entr{} from its durable copy (last synchronised {})", n,
        n == 1 ? "y" : "ies",
        mirror_->last_sync_at_ms() == 0 ? std::string("never")
                                        : std::to_string(mirror_->age().count() / 1000) + " s ago");
  } catch (const std::exception& e) {
    // A damaged copy is set aside, never trusted: the mirror starts empty and stale until it synchronises.
    std::error_code ec;
    std::filesystem::rename(copy_path_, copy_path_ + ".damaged", ec);
    spdlog::error("revocation mirror: its durable copy {} is unreadable ({}); moved aside, starting stale",
                  copy_path_, e.what());
  }
  MutexLock lock(save_mu_);  // at start, before the flusher: no contention
  saved_generation_ = mirror_->generation();
}

void RevocationRuntime::save_copy() {
  if (!mirror_ || copy_path_.empty()) return;
  const uint64_t gen = mirror_->generation();
  const int64_t synced = mirror_->last_sync_at_ms();
  MutexLock lock(save_mu_);
  // Written when an entry changed, and at most every 30 s for a newer sync time alone.
  if (gen == saved_generation_ && synced - saved_sync_ms_ < 30000) return;
  const auto dir = std::filesystem::path(copy_path_).parent_path();
  if (!std::filesystem::exists(dir)) ensure_dir(dir, 0700);  // (as root, the supervisor made it shared)
  write_file_atomic(copy_path_, mirror_->snapshot().dump(), 0600);
  saved_generation_ = gen;
  saved_sync_ms_ = synced;
}

void RevocationRuntime::resync() {
  const auto r = identity::resync_mirror(*mirror_, *blacklist_, store_.get());
  if (r.missing > 0)
    spdlog::warn(
        "the blacklist Redis lacked {} unexpired revocation(s) this process enforces (was it restarted "
        "without "
        "its append-only file, or flushed?); pushed {} back{}{}",
        r.missing, r.restored, r.error.empty() ? "" : "; stopped: ", r.error);
  if (r.restored > 0) restored_->inc(static_cast<double>(r.restored));
  save_copy();
  MutexLock lock(mu_);
  if (r.missing > 0)
    last_restore_ =
        Json{{"missing", r.missing}, {"restored", r.restored}, {"at", ctx_.clock().unix_millis()}};
  if (!last_resync_error_.empty())
    spdlog::info("revocation mirror resynchronised ({} tokens, {} users)",
                 mirror_->size(RevocationEvent::Kind::Token), mirror_->size(RevocationEvent::Kind::User));
  last_resync_error_.clear();
}

Json RevocationRuntime::status() const {
  Json j{{"instance", ctx_.code()}, {"outbox", store_->status()}};
  if (mirror_) {
    Json m = mirror_->status();
    m["outboxPending"] = store_->pending();
    j["mirror"] = std::move(m);
  }
  if (subscriber_)
    j["subscriber"] =
        Json{{"connected", subscriber_->connected()}, {"reconnects", subscriber_->reconnects()}};
  MutexLock lock(mu_);
  j["lastResyncError"] = last_resync_error_.empty() ? Json(nullptr) : Json(last_resync_error_);
  j["lastRestore"] = last_restore_;
  return j;
}

}  // namespace dive::services
