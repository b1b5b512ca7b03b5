// Enrollment tokens, CA fingerprints and spoke credentials (federation/enrollment.hpp).
#include "federation/enrollment.hpp"

#include <gtest/gtest.h>

#include "common/encoding.hpp"
#include "common/random.hpp"
#include "identity/keys.hpp"

namespace dive::federation {
namespace {

const std::string kFp = std::string(64, 'a');

TEST(EnrollmentToken, RoundTripsEveryField) {
  EnrollmentToken t{"https://hub.example:4000", kFp, "FRA", secure_token(32)};
  auto text = encode_token(t);
  EXPECT_EQ(text.rfind(kTokenPrefix, 0), 0u);
  auto back = decode_token("  " + text + "\n");  // pasted with whitespace around it
  EXPECT_EQ(back.hub_url, t.hub_url);
  EXPECT_EQ(back.ca_fingerprint, kFp);
  EXPECT_EQ(back.code, "FRA");
  EXPECT_EQ(back.secret, t.secret);
}

TEST(EnrollmentToken, RefusesDamagedOrForeignTokensWithoutEchoingThem) {
  EnrollmentToken t{"https://hub.example:4000", kFp, "FRA", secure_token(32)};
  auto text = encode_token(t);
  EXPECT_THROW(decode_token("eyJhbGciOi.x.y"), EnrollmentError);                 // a JWT, not a token
  EXPECT_THROW(decode_token(text.substr(0, text.size() - 5)), EnrollmentError);  // truncated
  EXPECT_THROW(decode_token(std::string(kTokenPrefix) + "!!!"), EnrollmentError);
  try {
    decode_token(std::string(kTokenPrefix) +
                 base64url_encode(R"({"hub":"http://x","fp":")" + kFp + R"(","code":"FRA","s":")" + t.secret +
                                  R"("})"));
    FAIL() << "a plain-http hub URL must be refused";
  } catch (const EnrollmentError& e) {
    EXPECT_EQ(std::string(e.what()).find(t.secret), std::string::npos);
  }
  auto bad_code = encode_token({"https://h:1", kFp, "fr", t.secret});
  EXPECT_THROW(decode_token(bad_code), EnrollmentError);
  auto short_secret = encode_token({"https://h:1", kFp, "FRA", "abc"});
  EXPECT_THROW(decode_token(short_secret), EnrollmentError);
}

TEST(Fingerprint, NormalisesColonsAndCase) {
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += (i ? ":" : "") + std::string("AB");
  EXPECT_EQ(normalize_fingerprint(colons), std::string(32 * 2, ' ').replace(0, 64, [] {
    std::string s;
    for (int i = 0; i < 32; ++i) s += "ab";
    return s;
  }()));
  EXPECT_THROW(normalize_fingerprint("abcd"), EnrollmentError);
  EXPECT_THROW(normalize_fingerprint(std::string(64, 'g')), EnrollmentError);
  EXPECT_EQ(display_fingerprint("ab01"), "AB:01");
}

TEST(Fingerprint, OfAPemWithoutCertificateIsAnError) {
  EXPECT_THROW(fingerprint_of_pem("not a certificate"), EnrollmentError);
  // A public key is not a certificate either.
  auto pem = identity::SigningKey::generate_ec_p256().public_key().to_pem();
  EXPECT_THROW(fingerprint_of_pem(pem), EnrollmentError);
}

TEST(Credential, HeaderRoundTripsAndRejectsOtherSchemes) {
  auto h = credential_header({"GBR", "s3cr3t"});
  auto c = parse_credential_header(h);
  EXPECT_EQ(c.code, "GBR");
  EXPECT_EQ(c.secret, "s3cr3t");
  EXPECT_TRUE(parse_credential_header("Bearer abc").code.empty());
  EXPECT_TRUE(parse_credential_header("DiveSpoke gbr.x").code.empty());
  EXPECT_TRUE(parse_credential_header("DiveSpoke GBR.").code.empty());
  EXPECT_TRUE(parse_credential_header("DiveSpoke GBRx").code.empty());
}

TEST(Credential, StoredHashIsNotTheSecret) {
  auto s = secure_token(32);
  EXPECT_NE(hash_secret(s), s);
  EXPECT_EQ(hash_secret(s).size(), 64u);
  EXPECT_EQ(hash_secret(s), hash_secret(s));
}

}  // namespace
}  // namespace dive::federation
