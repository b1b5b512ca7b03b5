#pragma once
// Password hashing with argon2id (libargon2), PHC string format:
//   $argon2id$v=19$m=19456,t=2,p=1$<salt b64>$<hash b64>
//
// Default cost: m = 19456 KiB (19 MiB), t = 2 passes, p = 1 lane — OWASP's minimum recommendation for
// argon2id (Password Storage Cheat Sheet), about 30-40 ms of one core here. The parameters are part of each
// stored hash, so raising them later keeps old hashes verifiable; needs_rehash() tells a successful login
// to store a new hash with the current parameters.
//
// Each hash or verify takes one permit of a process-wide limit (one per core by default), so a burst of
// logins queues instead of allocating 19 MiB per worker thread at once.
#include <cstdint>
#include <string>
#include <string_view>

namespace dive::identity::idp {

struct Argon2Params {
  uint32_t memory_kib = 19456;
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
  uint32_t salt_bytes = 16;
  uint32_t hash_bytes = 32;

  static constexpr uint32_t kMinMemoryKib = 19456;
  static constexpr uint32_t kMinIterations = 2;
  bool meets_minimum() const {
    return memory_kib >= kMinMemoryKib && iterations >= kMinIterations && parallelism >= 1;
  }
};

// A new PHC string for `password` with a random salt. Throws std::runtime_error when argon2 fails.
std::string hash_password(std::string_view password, const Argon2Params& params = {});
// True when `password` matches `encoded` (an argon2id PHC string). False for any malformed hash.
bool verify_password(std::string_view password, std::string_view encoded);
// The parameters of a PHC string; false when it is not a well-formed argon2id string.
bool parse_argon2_params(std::string_view encoded, Argon2Params* out);
// True when `encoded` was made with weaker parameters than `current` (or is not argon2id at all).
bool needs_rehash(std::string_view encoded, const Argon2Params& current);

// Verifies `password` against a fixed hash made with `params`, and returns false: costs what a real
// verify costs, so a login for an unknown user takes as long as one with a wrong password.
void dummy_verify(std::string_view password, const Argon2Params& params = {});

// Unmaps argon2's kept working memory when hashes ran before the previous call and none since; true when it
// did. Verification keeps at most one 19 MiB block per permit between hashes (back-to-back logins then touch
// no new pages), so the idp holds at most permits x 19 MiB while logins come and none once they stop. Call it
// periodically: the period is the quiet time (the idp: every second).
bool release_idle_argon2_memory();

}  // namespace dive::identity::idp
