#include <gtest/gtest.h>

#include "identity/idp/pkce.hpp"

using namespace dive::identity::idp;

TEST(Pkce, Rfc7636AppendixBVector) {
  const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  EXPECT_EQ(s256_challenge(verifier), challenge);
  EXPECT_TRUE(verify_pkce_s256(verifier, challenge));
  EXPECT_TRUE(valid_code_challenge(challenge));
}

TEST(Pkce, WrongOrMalformedVerifiersFail) {
  const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  EXPECT_FALSE(verify_pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", challenge));
  EXPECT_FALSE(verify_pkce_s256("short", challenge));
  EXPECT_FALSE(verify_pkce_s256(std::string(129, 'a'), challenge));
  EXPECT_FALSE(verify_pkce_s256("dBjftJeZ4CVP+mB92K27uhbUJU1p1r/wW1gFWFOEjXk", challenge))
      << "not unreserved";
  EXPECT_FALSE(verify_pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "")) << "no challenge";
  EXPECT_FALSE(valid_code_challenge("plain-challenge"));
  EXPECT_FALSE(valid_code_challenge(std::string(43, '!')));
}
