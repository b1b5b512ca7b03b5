#include "identity/idp/password_hash.hpp"

#include <argon2.h>

#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <vector>

#include "common/random.hpp"

namespace dive::identity::idp {

namespace {

// A counting semaphore whose size can be set at start-up (std::counting_semaphore's cannot).
class Permits {
 public:
  static Permits& instance() {
    static Permits p;
    return p;
  }
  void set(unsigned n) {
    std::lock_guard lock(mu_);
    limit_ = n == 0 ? 1 : n;
    cv_.notify_all();
  }
  void acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return in_use_ < limit_; });
    ++in_use_;
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      --in_use_;
    }
    cv_.notify_one();
  }

 private:
  Permits() : limit_(std::max(1u, std::thread::hardware_concurrency())) {}
  std::mutex mu_;
  std::condition_variable cv_;
  unsigned limit_, in_use_ = 0;
};

struct Permit {
  Permit() { Permits::instance().acquire(); }
  ~Permit() { Permits::instance().release(); }
  Permit(const Permit&) = delete;
  Permit& operator=(const Permit&) = delete;
};

bool parse_u32(std::string_view s, uint32_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

void set_argon2_concurrency(unsigned permits) {
  Permits::instance().set(permits);
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
  std::string enc(encoded);  // argon2 wants a NUL-terminated string
  Permit permit;
  return argon2id_verify(enc.c_str(), password.data(), password.size()) == ARGON2_OK;
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
  static std::mutex mu;
  static std::map<std::tuple<uint32_t, uint32_t, uint32_t>, std::string> hashes;
  std::string hash;
  {
    std::lock_guard lock(mu);
    auto& h = hashes[{params.memory_kib, params.iterations, params.parallelism}];
    if (h.empty()) h = hash_password(secure_token(24), params);
    hash = h;
  }
  (void)verify_password(password, hash);
}

}  // namespace dive::identity::idp
