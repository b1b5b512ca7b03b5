#pragma once
// Byte encodings and digests used across the code base (base64, base64url, hex, SHA-2).
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dive {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);  // nullopt on malformed input
std::string base64url_encode(std::string_view bytes);             // no padding
std::optional<std::string> base64url_decode(std::string_view text);
std::string hex_encode(std::string_view bytes);

std::string sha256(std::string_view data);                             // raw 32 bytes
std::string sha384(std::string_view data);                             // raw 48 bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
inline std::string sha256_hex(std::string_view data) {
  return hex_encode(sha256(data));
}

// SHA-256 over several pieces with one digest context kept for many digests: sha256() allocates and frees
// a context per call, which shows in a loop hashing small inputs (the audit chain: two digests a record).
// Not thread-safe: one per thread. After an exception it is ready for a new digest (nothing half-fed).
class Sha256 {
 public:
  using Digest = std::array<unsigned char, 32>;
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256& update(std::string_view data);
  Digest finish();  // the digest of everything updated since the last finish(); starts over

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// Percent-encoding for a query component (unreserved characters kept).
std::string url_encode(std::string_view s);
// `base` plus the parameters as a query ("?" or "&" as needed).
std::string add_query(const std::string& base,
                      const std::vector<std::pair<std::string, std::string>>& params);

// Constant-time comparison for secrets and MACs.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace dive
