#pragma once
// Enrollment of a spoke at the hub (docs/FEDERATION.md): the one-time token an operator hands to the
// operator of a new spoke, the CA fingerprint that pins the hub's TLS certificate authority, and the
// credentials a spoke holds afterwards. Pure functions; nothing here touches the network or a database.
//
//   EnrollmentToken t{"https://hub.example:4000", fingerprint_of_pem(ca_pem), "FRA", secure_token(32)};
//   std::string text = encode_token(t);          // dive-enroll-v1.<base64url JSON>
//   EnrollmentToken back = decode_token(text);   // throws EnrollmentError with the reason
#include <stdexcept>
#include <string>
#include <string_view>

namespace dive::federation {

class EnrollmentError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct EnrollmentToken {
  std::string hub_url;         // the hub's api, https://host:port
  std::string ca_fingerprint;  // SHA-256 of the hub CA certificate (DER), 64 lower-case hex digits
  std::string code;            // the spoke it is for (ISO 3166 alpha-3)
  std::string secret;          // random; the hub stores only its hash
};

inline constexpr std::string_view kTokenPrefix = "dive-enroll-v1.";

std::string encode_token(const EnrollmentToken& t);
// Checks the shape (prefix, JSON, https URL, fingerprint, code, secret length); never echoes the secret.
EnrollmentToken decode_token(std::string_view text);

// "AB:CD:..." or "abcd..." (any case, with or without colons) -> 64 lower-case hex digits.
// Throws EnrollmentError when it is not a SHA-256 fingerprint.
std::string normalize_fingerprint(std::string_view fp);
// SHA-256 of the first certificate of a PEM text (DER), lower-case hex. Throws EnrollmentError when there is
// no certificate.
std::string fingerprint_of_pem(std::string_view pem);
// "ab:cd:..." upper-case with colons, as operators compare them on screen.
std::string display_fingerprint(std::string_view hex);

// The stored form of a secret (enrollment token or spoke credential): SHA-256, hex. The secrets are 32
// random bytes, so a plain hash is enough (nothing to brute-force).
std::string hash_secret(std::string_view secret);

// A spoke's credential as it sends it: "Authorization: DiveSpoke <CODE>.<secret>".
struct SpokeCredential {
  std::string code, secret;
};
std::string credential_header(const SpokeCredential& c);
// Parses the Authorization header value; nullopt-like empty code when absent or malformed.
SpokeCredential parse_credential_header(std::string_view value);

// True for an ISO 3166 alpha-3 shaped code (three upper-case letters).
bool valid_code(std::string_view code);

}  // namespace dive::federation
