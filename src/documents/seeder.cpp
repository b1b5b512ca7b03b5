#include "documents/seeder.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <exception>
#include <thread>
#include <vector>

#include "common/mutex.hpp"
#include "documents/resource_store.hpp"
#include "ztdf/encrypt.hpp"
#include "ztdf/serialize.hpp"

namespace dive::documents {

namespace {

StoredResource make_document(const SeedPlan& plan, const ztdf::KasPublicKey& kas, uint64_t index,
                             const SeedOptions& o) {
  DocumentSpec spec = plan.document(index, o.seed_random);
  ztdf::ObjectInfo info;
  info.object_id = spec.resource_id;
  info.owner = "seed";
  info.owner_organization = plan.code();
  ztdf::Object obj = ztdf::encrypt(spec.content, spec.label, {kas}, info);
  StoredResource r;
  r.resource_id = spec.resource_id;
  r.title = std::move(spec.title);
  r.label = obj.policy.label;
  r.owner = "seed";
  r.source = "seed";
  r.seed_batch = std::to_string(o.seed_random);
  r.kas_kid = kas.kid;
  r.ztdf = ztdf::serialize(obj);
  return r;
}

}  // namespace

SeedResult seed_documents(pqxx::connection& conn, const SeedPlan& plan, const KasKey& key,
                          const SeedOptions& o) {
  auto start = std::chrono::steady_clock::now();
  const size_t total = static_cast<size_t>(std::max(o.count, 0));
  const size_t batch = std::max<size_t>(o.batch_size, 1);
  const size_t chunks = (total + batch - 1) / batch;
  const ztdf::KasPublicKey kas = kas_public_key(key, o.kas_url);

  // mu guards `ready` and `worker_error` (locals: the analysis cannot check them, GUARDED_BY is for members).
  Mutex mu;
  CondVar cv;
  std::deque<std::vector<StoredResource>> ready;
  std::atomic<size_t> next_chunk{0};
  std::atomic<bool> stop{false};
  std::exception_ptr worker_error;
  const size_t max_ready = 4;  // bounded: encryption never runs far ahead of the database

  auto worker = [&] {
    try {
      for (;;) {
        size_t c = next_chunk.fetch_add(1);
        if (c >= chunks || stop) return;
        std::vector<StoredResource> rows;
        size_t from = c * batch, to = std::min(total, from + batch);
        rows.reserve(to - from);
        for (size_t i = from; i < to; ++i) rows.push_back(make_document(plan, kas, o.first_index + i, o));
        MutexLock lock(mu);
        cv.wait(mu, [&] { return ready.size() < max_ready || stop; });
        ready.push_back(std::move(rows));
        cv.notify_all();
      }
    } catch (...) {
      MutexLock lock(mu);
      if (!worker_error) worker_error = std::current_exception();
      stop = true;
      cv.notify_all();
    }
  };

  std::vector<std::jthread> workers;
  for (int t = 0; t < std::max(o.threads, 1); ++t) workers.emplace_back(worker);

  SeedResult res;
  try {
    for (size_t stored = 0; stored < chunks;) {
      std::vector<StoredResource> rows;
      {
        MutexLock lock(mu);
        cv.wait(mu, [&] { return !ready.empty() || worker_error; });
        if (worker_error) std::rethrow_exception(worker_error);
        rows = std::move(ready.front());
        ready.pop_front();
        cv.notify_all();
      }
      res.generated += rows.size();
      res.inserted += insert_resources(conn, rows);
      ++stored;
      if (o.progress) o.progress(res.generated, total);
    }
  } catch (...) {
    {
      MutexLock lock(mu);
      stop = true;
    }
    cv.notify_all();
    throw;  // the jthreads join on the way out
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return res;
}

}  // namespace dive::documents
