// RFC 4226 Appendix D and RFC 6238 Appendix B test vectors, then DIVE's window and replay rules.
#include <gtest/gtest.h>

#include "identity/idp/totp.hpp"

using namespace dive::identity::idp;

namespace {
const std::string kSha1Seed = "12345678901234567890";
const std::string kSha256Seed = "12345678901234567890123456789012";
const std::string kSha512Seed = "1234567890123456789012345678901234567890123456789012345678901234";
}  // namespace

TEST(Hotp, Rfc4226Vectors) {
  const char* want[] = {"755224", "287082", "359152", "969429", "338314",
                        "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(hotp(kSha1Seed, i), want[i]) << i;
}

TEST(Totp, Rfc6238Vectors) {
  struct V {
    int64_t t;
    const char *sha1, *sha256, *sha512;
  } vs[] = {
      {59, "94287082", "46119246", "90693936"},         {1111111109, "07081804", "68084774", "25091201"},
      {1111111111, "14050471", "67062674", "99943326"}, {1234567890, "89005924", "91819424", "93441116"},
      {2000000000, "69279037", "90698825", "38618901"}, {20000000000, "65353130", "77737706", "47863826"}};
  for (const auto& v : vs) {
    EXPECT_EQ(totp_code(kSha1Seed, v.t, {TotpHash::Sha1, 30, 8, 1}), v.sha1) << v.t;
    EXPECT_EQ(totp_code(kSha256Seed, v.t, {TotpHash::Sha256, 30, 8, 1}), v.sha256) << v.t;
    EXPECT_EQ(totp_code(kSha512Seed, v.t, {TotpHash::Sha512, 30, 8, 1}), v.sha512) << v.t;
  }
}

TEST(Totp, AcceptsTheCurrentStepAndOneEitherSide) {
  int64_t now = 1'700'000'015;
  int64_t step = totp_step(now);
  EXPECT_EQ(verify_totp(kSha1Seed, totp_code(kSha1Seed, now), now, std::nullopt), step);
  EXPECT_EQ(verify_totp(kSha1Seed, totp_code(kSha1Seed, now - 30), now, std::nullopt), step - 1);
  EXPECT_EQ(verify_totp(kSha1Seed, totp_code(kSha1Seed, now + 30), now, std::nullopt), step + 1);
  EXPECT_FALSE(verify_totp(kSha1Seed, totp_code(kSha1Seed, now - 90), now, std::nullopt));
  EXPECT_FALSE(verify_totp(kSha1Seed, totp_code(kSha1Seed, now + 90), now, std::nullopt));
}

TEST(Totp, AUsedStepIsNeverAcceptedAgain) {
  int64_t now = 1'700'000'015;
  std::string code = totp_code(kSha1Seed, now);
  auto step = verify_totp(kSha1Seed, code, now, std::nullopt);
  ASSERT_TRUE(step);
  EXPECT_FALSE(verify_totp(kSha1Seed, code, now, step)) << "replay of the same code";
  EXPECT_FALSE(verify_totp(kSha1Seed, totp_code(kSha1Seed, now - 30), now, step)) << "an older step";
  EXPECT_TRUE(verify_totp(kSha1Seed, totp_code(kSha1Seed, now + 30), now + 30, step)) << "the next step";
}

TEST(Totp, MalformedCodesFail) {
  int64_t now = 1'700'000'015;
  for (const char* bad : {"", "12345", "1234567", "12a456", " 123456", "-12345"})
    EXPECT_FALSE(verify_totp(kSha1Seed, bad, now, std::nullopt)) << bad;
}

TEST(Totp, Base32AndOtpauthUri) {
  EXPECT_EQ(base32_encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(base32_encode(""), "");
  std::string uri = otpauth_uri("DIVE USA", "testuser-usa-1", kSha1Seed);
  EXPECT_EQ(
      uri,
      "otpauth://totp/DIVE%20USA:testuser-usa-1?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=DIVE%20USA"
      "&algorithm=SHA1&digits=6&period=30");
}
