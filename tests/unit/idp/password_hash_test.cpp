#include <gtest/gtest.h>

#include "identity/idp/password_hash.hpp"

using namespace dive::identity::idp;

TEST(PasswordHash, DefaultsMeetOwaspMinimum) {
  Argon2Params p;
  EXPECT_EQ(p.memory_kib, 19456u);
  EXPECT_EQ(p.iterations, 2u);
  EXPECT_EQ(p.parallelism, 1u);
  EXPECT_TRUE(p.meets_minimum());
  p.memory_kib = 4096;
  EXPECT_FALSE(p.meets_minimum());
}

TEST(PasswordHash, HashIsArgon2idPhcAndVerifies) {
  std::string h = hash_password("correct horse");
  EXPECT_EQ(h.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << h;
  EXPECT_TRUE(verify_password("correct horse", h));
  EXPECT_FALSE(verify_password("correct horsE", h));
  EXPECT_FALSE(verify_password("", h));
  EXPECT_NE(h, hash_password("correct horse")) << "salts are random";
}

TEST(PasswordHash, MalformedHashesNeverVerify) {
  for (const char* bad : {"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
                          "$argon2id$v=19$m=19456,t=2$c2FsdA$aGFzaA",
                          "$argon2id$v=19$m=x,t=2,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=19456,t=2,p=1$$"})
    EXPECT_FALSE(verify_password("x", bad)) << bad;
}

TEST(PasswordHash, ParamsAreParsedAndRehashIsAskedForWeakerOnes) {
  Argon2Params p;
  ASSERT_TRUE(parse_argon2_params(
      "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA", &p));
  EXPECT_EQ(p.memory_kib, 65536u);
  EXPECT_EQ(p.iterations, 3u);
  EXPECT_EQ(p.parallelism, 4u);
  std::string h = hash_password("pw");
  EXPECT_FALSE(needs_rehash(h, Argon2Params{}));
  Argon2Params stronger;
  stronger.iterations = 3;
  EXPECT_TRUE(needs_rehash(h, stronger));
  EXPECT_TRUE(needs_rehash("not a hash", Argon2Params{}));
}

TEST(PasswordHash, DummyVerifyRunsARealArgon2Verification) {
  dummy_verify("anything");      // the fixed hash is made once, on first use
  release_idle_argon2_memory();  // settle whatever earlier tests left: after two calls, nothing is kept
  release_idle_argon2_memory();
  EXPECT_FALSE(release_idle_argon2_memory()) << "nothing ran since";
  dummy_verify("anything");
  EXPECT_FALSE(release_idle_argon2_memory()) << "a hash ran in this period: the memory is kept";
  EXPECT_TRUE(release_idle_argon2_memory()) << "a quiet period after an argon2 verification: handed back";
  EXPECT_FALSE(release_idle_argon2_memory()) << "once";
}

TEST(PasswordHash, VerificationThroughThePoolAgreesWithLibargon2) {
  const std::string h = hash_password("correct horse", Argon2Params{});
  for (int i = 0; i < 3; ++i) {  // the pooled block is reused: still the same answers
    EXPECT_TRUE(verify_password("correct horse", h));
    EXPECT_FALSE(verify_password("correct horsf", h));
  }
  EXPECT_FALSE(verify_password("correct horse", h.substr(0, h.size() - 2))) << "a truncated hash";
  EXPECT_FALSE(verify_password("correct horse", h.substr(0, h.rfind('$')))) << "no hash part";
  EXPECT_FALSE(verify_password("correct horse", "$argon2id$v=19$m=19456,t=2,p=1$!!!$!!!"));
}
