#include "common/encoding.hpp"

#include <gtest/gtest.h>

#include "common/random.hpp"

using namespace dive;

TEST(Encoding, Base64RoundTripsAndRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff"));
  for (int n = 0; n < 64; ++n) {
    auto b = secure_random_bytes(static_cast<size_t>(n));
    std::string s(b.begin(), b.end());
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
    EXPECT_EQ(base64url_decode(base64url_encode(s)), s);
  }
}

TEST(Encoding, MalformedBase64IsRejected) {
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64_decode("Z"));
  EXPECT_FALSE(base64url_decode("Zm9v+"));  // '+' is not in the URL alphabet
  EXPECT_FALSE(base64url_decode("Zh"));     // non-zero trailing bits: not canonical
}

TEST(Encoding, DigestsMatchKnownValues) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(
      hex_encode(sha384("abc")),
      "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
}

TEST(Encoding, AReusedSha256HashesPiecesLikeTheOneShot) {
  Sha256 sha;
  auto view = [](const Sha256::Digest& d) {
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
  };
  EXPECT_EQ(hex_encode(view(sha.update("abc").finish())),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(view(sha.finish()), sha256("")) << "finish() starts over";
  EXPECT_EQ(view(sha.update("hello ").update("").update("world").finish()), sha256("hello world"));
  EXPECT_EQ(view(sha.update(std::string(1000, 'x')).finish()), sha256(std::string(1000, 'x')));
}

TEST(Encoding, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
}

TEST(Random, SeededIsDeterministicAndUniformStaysInRange) {
  SeededRandom a(42), b(42);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
  for (int i = 0; i < 1000; ++i) {
    auto v = a.uniform(5, 9);
    EXPECT_GE(v, 5u);
    EXPECT_LE(v, 9u);
    double u = a.uniform01();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
  EXPECT_EQ(secure_token(32).size(), 43u);
  EXPECT_NE(secure_token(), secure_token());
}
