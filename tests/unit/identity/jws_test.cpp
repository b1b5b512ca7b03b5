// JWS compact: signing, structure parsing and the strict JOSE JSON parser.
#include "identity/jws.hpp"

#include <gtest/gtest.h>

#include "identity_test_util.hpp"

using namespace dive;
using namespace dive::identity;
using namespace dive::identity::testing;

TEST(Jws, SignProducesVerifiableCompactToken) {
  for (const SigningKey* k : {&rsa_key(), &ps_key(), &ec_key()}) {
    std::string token =
        sign({{"typ", "at+jwt"}, {"alg", "none"}, {"kid", "spoof"}}, R"({"sub":"alice"})", *k);
    EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
    auto jws = parse_compact(token);
    EXPECT_EQ(jws.header["alg"], std::string(to_string(k->alg())));  // the key decides alg and kid
    EXPECT_EQ(jws.header["kid"], k->kid());
    EXPECT_EQ(jws.header["typ"], "at+jwt");
    EXPECT_EQ(jws.payload, R"({"sub":"alice"})");
    EXPECT_TRUE(verify_signature(jws, k->public_key()));
    EXPECT_FALSE(verify_signature(jws, attacker_key().public_key()));
  }
  auto jws = parse_compact(sign_claims({{"sub", "bob"}}, rsa_key()));
  EXPECT_EQ(jws.header["typ"], "JWT");
  EXPECT_EQ(Json::parse(jws.payload)["sub"], "bob");
  EXPECT_THROW(sign(Json::array(), "{}", rsa_key()), std::invalid_argument);
}

TEST(Jws, StructureErrors) {
  std::string good = sign_claims({{"sub", "a"}}, rsa_key());
  auto p = split(good);
  const std::vector<std::string> bad = {
      "",
      "abc",
      p.header + "." + p.payload,                                             // 2 parts
      p.header + "." + p.payload + "." + p.signature + ".x",                  // 4 parts
      p.header + "." + p.payload + "." + p.signature + ".x.y",                // 5 parts (JWE shape)
      "." + p.payload + "." + p.signature,                                    // empty header
      p.header + ".." + p.signature,                                          // empty payload
      p.header + "=." + p.payload + "." + p.signature,                        // padding
      p.header + "." + p.payload + "." + p.signature + "=",                   // padding
      p.header + "." + p.payload + "+." + p.signature,                        // base64 (not url) alphabet
      p.header + "." + p.payload + "." + p.signature.substr(1),               // impossible length
      b64("not json") + "." + p.payload + "." + p.signature,                  // header not JSON
      b64("[1,2]") + "." + p.payload + "." + p.signature,                     // header not an object
      b64(R"({"alg":"RS256","alg":"none"})") + "." + p.payload + ".",         // duplicate member
      b64(std::string("{\"alg\":\"RS256\"}\0", 16)) + "." + p.payload + ".",  // NUL
      b64(R"({"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":1}}}}}}}}})") + "." + p.payload + ".",  // deep
  };
  for (const auto& t : bad) EXPECT_THROW(parse_compact(t), JwsFormatError) << t;
}

TEST(Jws, ErrorMessagesDoNotQuoteTheToken) {
  std::string good = sign_claims({{"sub", "a"}}, rsa_key());
  auto p = split(good);
  try {
    parse_compact(p.header + "." + p.payload + "." + p.signature + ".x");
    FAIL();
  } catch (const JwsFormatError& e) {
    EXPECT_EQ(std::string(e.what()).find(p.signature.substr(0, 10)), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find(p.payload.substr(0, 10)), std::string::npos);
  }
}

TEST(Jws, StrictJsonRejectsDuplicatesAtAnyDepth) {
  EXPECT_NO_THROW(parse_jose_json(R"({"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]})", 8));
  EXPECT_THROW(parse_jose_json(R"({"a":1,"a":1})", 8), std::invalid_argument);
  EXPECT_THROW(parse_jose_json(R"({"a":{"x":1,"x":2}})", 8), std::invalid_argument);
  EXPECT_THROW(parse_jose_json(R"([{"x":1,"y":{},"x":2}])", 8), std::invalid_argument);
  EXPECT_THROW(parse_jose_json(R"({"a":1} x)", 8), std::invalid_argument);
  EXPECT_THROW(parse_jose_json(R"([[[[1]]]])", 3), std::invalid_argument);
  EXPECT_NO_THROW(parse_jose_json(R"([[[1]]])", 3));
  EXPECT_EQ(parse_jose_json("\"s\"", 1), "s");
}
