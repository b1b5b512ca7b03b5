#include "identity/idp/password_hash.hpp"

#include <argon2.h>
#include <openssl/crypto.h>
#include <sys/mman.h>

#include <charconv>
#include <map>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <vector>

#include "common/encoding.hpp"
#include "common/mutex.hpp"
#include "common/random.hpp"

namespace dive::identity::idp {

namespace {

// A counting semaphore whose size can be set at start-up (std::counting_semaphore's cannot). Thread-safe:
// every hashing thread takes and gives back permits.
class Permits {
 public:
  static Permits& instance() {
    static Permits p;
    return p;
  }
  void acquire() {
    MutexLock lock(mu_);
    cv_.wait(mu_, [&]() REQUIRES(mu_) { return in_use_ < limit_; });
    ++in_use_;
  }
  void release() {
    {
      MutexLock lock(mu_);
      --in_use_;
      ++uses_;
    }
    cv_.notify_one();
  }
  // True (once) when hashes ran before the previous call and none since: the caller, calling this
  // periodically, may hand the memory back after one quiet period. No clock: the caller's period is the time.
  bool idle_since_last_call() {
    MutexLock lock(mu_);
    if (in_use_ > 0) return false;
    if (uses_ != seen_uses_) {  // a hash ran during the last period
      seen_uses_ = uses_;
      dirty_ = true;
      return false;
    }
    if (!dirty_) return false;
    dirty_ = false;
    return true;
  }

 private:
  Permits() : limit_(std::max(1u, std::thread::hardware_concurrency())) {}
  Mutex mu_;
  CondVar cv_;
  unsigned limit_ GUARDED_BY(mu_);
  unsigned in_use_ GUARDED_BY(mu_) = 0;
  uint64_t uses_ GUARDED_BY(mu_) = 0;       // hashes finished
  uint64_t seen_uses_ GUARDED_BY(mu_) = 0;  // uses_ at the previous idle_since_last_call()
  bool dirty_ GUARDED_BY(mu_) = false;      // memory kept since the last trim
};

struct Permit {
  Permit() { Permits::instance().acquire(); }
  ~Permit() { Permits::instance().release(); }
  Permit(const Permit&) = delete;
  Permit& operator=(const Permit&) = delete;
};

// argon2's working memory (19 MiB per hash): kept between hashes, at most one block per permit, so that
// back-to-back logins touch memory that is already mapped (a fresh mapping costs a page fault per 4 KiB:
// ~85 ms a login here), and unmapped once the idp has been idle (release_idle_argon2_memory). Thread-safe:
// argon2 allocates and frees on every hashing thread.
class BlockPool {
 public:
  static BlockPool& instance() {
    static BlockPool p;
    return p;
  }
  static int allocate(uint8_t** memory, size_t bytes) {
    *memory = instance().take(bytes);
    return *memory ? ARGON2_OK : ARGON2_MEMORY_ALLOCATION_ERROR;
  }
  static void deallocate(uint8_t* memory, size_t bytes) { instance().give(memory, bytes); }
  void unmap_all() {
    std::vector<std::pair<uint8_t*, size_t>> all;
    {
      MutexLock lock(mu_);
      all.swap(free_);
    }
    for (auto [p, n] : all) ::munmap(p, n);
  }

 private:
  BlockPool() : limit_(std::max(1u, std::thread::hardware_concurrency())) {}
  uint8_t* take(size_t bytes) {
    {
      MutexLock lock(mu_);
      for (size_t i = 0; i < free_.size(); ++i)
        if (free_[i].second == bytes) {
          uint8_t* p = free_[i].first;
          free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
          return p;
        }
    }
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
  }
  void give(uint8_t* p, size_t bytes) {
    {
      MutexLock lock(mu_);
      if (free_.size() < limit_) {
        free_.emplace_back(p, bytes);
        return;
      }
    }
    ::munmap(p, bytes);
  }
  Mutex mu_;
  std::vector<std::pair<uint8_t*, size_t>> free_ GUARDED_BY(mu_);
  size_t limit_ GUARDED_BY(mu_);
};

bool parse_u32(std::string_view s, uint32_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool release_idle_argon2_memory() {
  if (!Permits::instance().idle_since_last_call()) return false;
  BlockPool::instance().unmap_all();
  return true;
}

std::string hash_password(std::string_view password, const Argon2Params& p) {
  auto salt = secure_random_bytes(p.salt_bytes);
  size_t len =
      argon2_encodedlen(p.iterations, p.memory_kib, p.parallelism, p.salt_bytes, p.hash_bytes, Argon2_id);
  std::vector<char> encoded(len + 1, '\0');
  int rc;
  {
    Permit permit;
    rc = argon2id_hash_encoded(p.iterations, p.memory_kib, p.parallelism, password.data(), password.size(),
                               salt.data(), salt.size(), p.hash_bytes, encoded.data(), encoded.size());
  }
  if (rc != ARGON2_OK) throw std::runtime_error(std::string("argon2id failed: ") + argon2_error_message(rc));
  return std::string(encoded.data());
}

bool verify_password(std::string_view password, std::string_view encoded) {
  Argon2Params p;
  if (!parse_argon2_params(encoded, &p)) return false;
  // "$argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>" (base64 without padding)
  const size_t hash_at = encoded.rfind('$');
  const size_t salt_at = encoded.rfind('$', hash_at - 1);
  if (hash_at == std::string_view::npos || salt_at == std::string_view::npos || salt_at == 0) return false;
  auto unpadded = [](std::string_view b64) {
    std::string t(b64);
    while (t.size() % 4) t += '=';
    return base64_decode(t);
  };
  auto salt = unpadded(encoded.substr(salt_at + 1, hash_at - salt_at - 1));
  auto expected = unpadded(encoded.substr(hash_at + 1));
  if (!salt || !expected || expected->empty() || expected->size() > 1024) return false;
  std::string computed(expected->size(), '\0');
  argon2_context ctx{};
  ctx.out = reinterpret_cast<uint8_t*>(computed.data());
  ctx.outlen = static_cast<uint32_t>(computed.size());
  ctx.pwd = reinterpret_cast<uint8_t*>(const_cast<char*>(password.data()));
  ctx.pwdlen = static_cast<uint32_t>(password.size());
  ctx.salt = reinterpret_cast<uint8_t*>(salt->data());
  ctx.saltlen = static_cast<uint32_t>(salt->size());
  ctx.t_cost = p.iterations;
  ctx.m_cost = p.memory_kib;
  ctx.lanes = ctx.threads = p.parallelism;
  ctx.version = ARGON2_VERSION_13;
  ctx.allocate_cbk = &BlockPool::allocate;
  ctx.free_cbk = &BlockPool::deallocate;
  ctx.flags = ARGON2_DEFAULT_FLAGS;
  int rc;
  {
    Permit permit;
    rc = argon2_ctx(&ctx, Argon2_id);
  }
  return rc == ARGON2_OK && CRYPTO_memcmp(computed.data(), expected->data(), computed.size()) == 0;
}

bool parse_argon2_params(std::string_view encoded, Argon2Params* out) {
  // $argon2id$v=19$m=19456,t=2,p=1$salt$hash
  constexpr std::string_view kPrefix = "$argon2id$v=19$";
  if (encoded.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = encoded.substr(kPrefix.size());
  size_t dollar = rest.find('$');
  if (dollar == std::string_view::npos) return false;
  std::string_view params = rest.substr(0, dollar);
  std::string_view tail = rest.substr(dollar + 1);
  size_t d2 = tail.find('$');
  if (d2 == std::string_view::npos || d2 == 0 || d2 + 1 >= tail.size()) return false;
  Argon2Params p;
  bool got_m = false, got_t = false, got_p = false;
  size_t start = 0;
  while (start <= params.size()) {
    size_t comma = params.find(',', start);
    if (comma == std::string_view::npos) comma = params.size();
    std::string_view kv = params.substr(start, comma - start);
    if (kv.size() < 3 || kv[1] != '=') return false;
    std::string_view v = kv.substr(2);
    if (kv[0] == 'm' && !got_m)
      got_m = parse_u32(v, &p.memory_kib);
    else if (kv[0] == 't' && !got_t)
      got_t = parse_u32(v, &p.iterations);
    else if (kv[0] == 'p' && !got_p)
      got_p = parse_u32(v, &p.parallelism);
    else
      return false;
    start = comma + 1;
  }
  if (!got_m || !got_t || !got_p) return false;
  p.salt_bytes = static_cast<uint32_t>(d2 * 3 / 4);
  p.hash_bytes = static_cast<uint32_t>((tail.size() - d2 - 1) * 3 / 4);
  *out = p;
  return true;
}

bool needs_rehash(std::string_view encoded, const Argon2Params& current) {
  Argon2Params p;
  if (!parse_argon2_params(encoded, &p)) return true;
  return std::tie(p.memory_kib, p.iterations, p.parallelism) !=
             std::tie(current.memory_kib, current.iterations, current.parallelism) ||
         p.hash_bytes < current.hash_bytes;
}

void dummy_verify(std::string_view password, const Argon2Params& params) {
  // One fixed hash per parameter set, made on first use with a random password nobody knows.
  static Mutex mu;
  static std::map<std::tuple<uint32_t, uint32_t, uint32_t>, std::string> hashes GUARDED_BY(mu);
  std::string hash;
  {
    MutexLock lock(mu);
    auto& h = hashes[{params.memory_kib, params.iterations, params.parallelism}];
    if (h.empty()) h = hash_password(secure_token(24), params);
    hash = h;
  }
  (void)verify_password(password, hash);
}

}  // namespace dive::identity::idp
