#pragma once
// One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238). DIVE enrols TOTP with SHA-1, 30 s steps and
// 6 digits (what every authenticator app understands) and accepts the current step ±1; a step once used
// is never accepted again for the same user (the caller stores the last accepted step).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dive::identity::idp {

enum class TotpHash { Sha1, Sha256, Sha512 };

struct TotpParams {
  TotpHash hash = TotpHash::Sha1;
  int64_t step_s = 30;
  int digits = 6;
  int window = 1;  // steps accepted either side of the current one
};

// RFC 4226 §5: the `digits`-digit code for `counter` (zero-padded).
std::string hotp(std::string_view secret, uint64_t counter, int digits = 6, TotpHash hash = TotpHash::Sha1);
// The time step of a moment (seconds since the epoch).
int64_t totp_step(int64_t unix_seconds, const TotpParams& p = {});
// RFC 6238: the code for a moment.
std::string totp_code(std::string_view secret, int64_t unix_seconds, const TotpParams& p = {});

// Checks `code` against the steps around `unix_seconds`. Returns the matching step when it is later than
// `last_used_step` (replay refused), nullopt otherwise. Malformed codes (wrong length, non-digits) fail.
// Comparison is constant-time per candidate.
std::optional<int64_t> verify_totp(std::string_view secret, std::string_view code, int64_t unix_seconds,
                                   std::optional<int64_t> last_used_step, const TotpParams& p = {});

// RFC 4648 base32 without padding (the otpauth:// secret format).
std::string base32_encode(std::string_view bytes);
// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret);

}  // namespace dive::identity::idp
