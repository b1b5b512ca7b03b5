#include "identity/idp/totp.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

#include "common/encoding.hpp"
#include "identity/idp/form.hpp"

namespace dive::identity::idp {

namespace {
const EVP_MD* md_for(TotpHash h) {
  switch (h) {
    case TotpHash::Sha256:
      return EVP_sha256();
    case TotpHash::Sha512:
      return EVP_sha512();
    case TotpHash::Sha1:
      break;
  }
  return EVP_sha1();
}

}  // namespace

std::string hotp(std::string_view secret, uint64_t counter, int digits, TotpHash hash) {
  if (digits < 6 || digits > 9) throw std::invalid_argument("HOTP digits must be 6..9");
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i) {
    msg[i] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(md_for(hash), secret.data(), static_cast<int>(secret.size()), msg, sizeof msg, mac, &mac_len))
    throw std::runtime_error("HMAC failed");
  // Dynamic truncation (RFC 4226 §5.3).
  int offset = mac[mac_len - 1] & 0x0f;
  uint32_t bin = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                 (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                 (static_cast<uint32_t>(mac[offset + 2]) << 8) | static_cast<uint32_t>(mac[offset + 3]);
  uint32_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  std::string code = std::to_string(bin % mod);
  return std::string(static_cast<size_t>(digits) - code.size(), '0') + code;
}

int64_t totp_step(int64_t unix_seconds, const TotpParams& p) {
  if (unix_seconds < 0) return -1;
  return unix_seconds / p.step_s;
}

std::string totp_code(std::string_view secret, int64_t unix_seconds, const TotpParams& p) {
  return hotp(secret, static_cast<uint64_t>(totp_step(unix_seconds, p)), p.digits, p.hash);
}

std::optional<int64_t> verify_totp(std::string_view secret, std::string_view code, int64_t unix_seconds,
                                   std::optional<int64_t> last_used_step, const TotpParams& p) {
  if (code.size() != static_cast<size_t>(p.digits)) return std::nullopt;
  for (char c : code)
    if (c < '0' || c > '9') return std::nullopt;
  int64_t now_step = totp_step(unix_seconds, p);
  std::optional<int64_t> match;
  // Every candidate is computed and compared, so the time taken does not depend on which one matches.
  for (int64_t s = now_step - p.window; s <= now_step + p.window; ++s) {
    if (s < 0) continue;
    bool eq = constant_time_equal(hotp(secret, static_cast<uint64_t>(s), p.digits, p.hash), code);
    if (eq && !match) match = s;
  }
  if (!match || (last_used_step && *match <= *last_used_step)) return std::nullopt;
  return match;
}

std::string base32_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 0x1f];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 0x1f];
  return out;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret) {
  std::string label = url_encode(issuer) + ":" + url_encode(account);
  return "otpauth://totp/" + label + "?secret=" + base32_encode(secret) + "&issuer=" + url_encode(issuer) +
         "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace dive::identity::idp
