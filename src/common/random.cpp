#include "common/random.hpp"

#include <openssl/rand.h>

#include <stdexcept>

#include "common/encoding.hpp"

namespace dive {

namespace {
class OsRandom final : public Random {
 public:
  uint64_t next_u64() override {
    uint64_t v = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1)
      throw std::runtime_error("RAND_bytes failed");
    return v;
  }
};
}  // namespace

Random& Random::system() {
  static OsRandom r;
  return r;
}

std::vector<unsigned char> secure_random_bytes(size_t n) {
  std::vector<unsigned char> out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return out;
}

std::string secure_token(size_t n_bytes) {
  auto b = secure_random_bytes(n_bytes);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

}  // namespace dive
