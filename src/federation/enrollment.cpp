#include "federation/enrollment.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cctype>

#include "common/encoding.hpp"
#include "common/json.hpp"
#include "common/ossl.hpp"
#include "common/strings.hpp"

namespace dive::federation {

bool valid_code(std::string_view code) {
  if (code.size() != 3) return false;
  for (char c : code)
    if (c < 'A' || c > 'Z') return false;
  return true;
}

std::string encode_token(const EnrollmentToken& t) {
  Json j{{"hub", t.hub_url}, {"fp", t.ca_fingerprint}, {"code", t.code}, {"s", t.secret}};
  return std::string(kTokenPrefix) + base64url_encode(j.dump());
}

EnrollmentToken decode_token(std::string_view text) {
  std::string s = trim(text);
  if (s.rfind(kTokenPrefix, 0) != 0)
    throw EnrollmentError("not a DIVE enrollment token (it must start with '" + std::string(kTokenPrefix) +
                          "'; copy the whole line ./dive hub enroll printed)");
  auto raw = base64url_decode(std::string_view(s).substr(kTokenPrefix.size()));
  if (!raw) throw EnrollmentError("the enrollment token is damaged (not base64url); copy it again");
  Json j;
  try {
    j = Json::parse(*raw);
  } catch (const Json::parse_error&) {
    throw EnrollmentError("the enrollment token is damaged (not JSON); copy it again");
  }
  if (!j.is_object()) throw EnrollmentError("the enrollment token is damaged; copy it again");
  EnrollmentToken t;
  auto str = [&](const char* k) {
    if (!j.contains(k) || !j[k].is_string())
      throw EnrollmentError(std::string("the enrollment token lacks its '") + k + "' field");
    return j[k].get<std::string>();
  };
  t.hub_url = str("hub");
  t.ca_fingerprint = normalize_fingerprint(str("fp"));
  t.code = str("code");
  t.secret = str("s");
  if (t.hub_url.rfind("https://", 0) != 0)
    throw EnrollmentError("the enrollment token's hub URL is not https");
  if (!valid_code(t.code)) throw EnrollmentError("the enrollment token names no valid instance code");
  if (t.secret.size() < 32) throw EnrollmentError("the enrollment token's secret is too short");
  return t;
}

std::string normalize_fingerprint(std::string_view fp) {
  std::string hex;
  for (char c : fp) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      throw EnrollmentError("a CA fingerprint is 64 hexadecimal digits (colons allowed)");
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() != 64)
    throw EnrollmentError("a CA fingerprint is a SHA-256: 64 hexadecimal digits (got " +
                          std::to_string(hex.size()) + ")");
  return hex;
}

std::string fingerprint_of_pem(std::string_view pem) {
  ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw EnrollmentError("out of memory reading a certificate");
  X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (!raw) {
    ossl::clear_errors();
    throw EnrollmentError("no PEM certificate found");
  }
  std::unique_ptr<X509, decltype(&X509_free)> cert(raw, X509_free);
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  if (len <= 0) throw EnrollmentError("cannot encode the certificate");
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return sha256_hex(bytes);
}

std::string display_fingerprint(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); ++i) {
    if (i > 0 && i % 2 == 0) out.push_back(':');
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i]))));
  }
  return out;
}

std::string hash_secret(std::string_view secret) {
  return sha256_hex(secret);
}

std::string credential_header(const SpokeCredential& c) {
  return "DiveSpoke " + c.code + "." + c.secret;
}

SpokeCredential parse_credential_header(std::string_view value) {
  constexpr std::string_view scheme = "DiveSpoke ";
  if (value.substr(0, scheme.size()) != scheme) return {};
  auto rest = value.substr(scheme.size());
  auto dot = rest.find('.');
  if (dot == std::string_view::npos) return {};
  SpokeCredential c{std::string(rest.substr(0, dot)), std::string(rest.substr(dot + 1))};
  if (!valid_code(c.code) || c.secret.empty() || c.secret.size() > 256) return {};
  return c;
}

}  // namespace dive::federation
