// JOSE signing/verification and the token validator, in-process:
//   Sign*/Verify*       – one JWS signature over the signing input of a realistic access token (~900 bytes)
//   SignToken*          – what the IdP does per issued token: claims -> compact JWS (sign_claims)
//   ValidateUncached*   – TokenValidator::validate on a token it has not seen (full path: parse, header,
//                         claims JSON, issuer, key lookup, signature, claims checks, cache insert)
//   ValidateCached      – TokenValidator::validate on a token already in the cache (SHA-256 + lookup)
//   *FreshCtx           – the same operation with a new EVP_MD_CTX/EVP_PKEY_CTX per call (what the pooled
//                         contexts in keys.cpp avoid), for comparison
// Run: build/<dir>/bench/identity/bench_identity --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string>
#include <vector>

#include "common/clock.hpp"
#include "identity/jwk.hpp"
#include "identity/jws.hpp"
#include "identity/keys.hpp"
#include "identity/ossl.hpp"
#include "identity/token_validator.hpp"

using namespace dive;
using namespace dive::identity;

namespace {

const char* kIssuer = "https://localhost:8443/realms/dive-v3-broker-usa";

const SigningKey& rsa() {
  static const SigningKey k = SigningKey::generate_rsa(2048, Alg::RS256, "rsa-1");
  return k;
}
const SigningKey& ps() {
  static const SigningKey k = SigningKey::generate_rsa(2048, Alg::PS256, "rsa-ps");
  return k;
}
const SigningKey& ec() {
  static const SigningKey k = SigningKey::generate_ec_p256("ec-1");
  return k;
}

// An access token's claims as the IdP issues them (issue 4 §1).
Json claims(int serial) {
  int64_t now = Clock::system().unix_seconds();
  return Json{{"iss", kIssuer},
              {"sub", "6f1c3a52-1b7e-4d0e-9c1e-3f2b1a0d9e8f"},
              {"aud", {"dive-api", "dive-kas"}},
              {"azp", "dive-cli"},
              {"exp", now + 3600},
              {"iat", now},
              {"auth_time", now},
              {"jti", "5b0f7a52-8a4e-4c1e-9d3b-" + std::to_string(100000000000 + serial)},
              {"acr", "1"},
              {"amr", {"pwd", "otp"}},
              {"uniqueID", "testuser-usa-3"},
              {"clearance", "SECRET"},
              {"countryOfAffiliation", "USA"},
              {"acpCOI", {"NATO", "FVEY"}},
              {"organizationType", "GOV"},
              {"dutyOrg", "USA_GOVERNMENT"},
              {"orgUnit", "J2"},
              {"roles", {"user"}},
              {"preferred_username", "testuser-usa-3"}};
}

std::string signing_input() {
  static const std::string s = [] {
    std::string t = sign_claims(claims(0), rsa());
    return t.substr(0, t.rfind('.'));
  }();
  return s;
}

class StaticJwks final : public JwksSource {
 public:
  Json fetch(const std::string&) override {
    return to_jwks(std::vector<VerifyKey>{rsa().public_key(), ps().public_key(), ec().public_key()});
  }
};

void BM_Sign(benchmark::State& state, const SigningKey& key) {
  const std::string input = signing_input();
  for (auto _ : state) benchmark::DoNotOptimize(key.sign(input));
  state.SetItemsProcessed(state.iterations());
}
void BM_Verify(benchmark::State& state, const SigningKey& key) {
  const std::string input = signing_input();
  const std::string sig = key.sign(input);
  const VerifyKey& pub = key.public_key();
  for (auto _ : state)
    if (!pub.verify(key.alg(), input, sig)) state.SkipWithError("verify failed");
  state.SetItemsProcessed(state.iterations());
}
// The same verification with the public key as the validator holds it: parsed from the issuer's JWKS.
void BM_VerifyJwkKey(benchmark::State& state, const SigningKey& key) {
  const std::string input = signing_input();
  const std::string sig = key.sign(input);
  const VerifyKey pub = parse_jwk(to_jwk(key.public_key()));
  for (auto _ : state)
    if (!pub.verify(key.alg(), input, sig)) state.SkipWithError("verify failed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_VerifyJwkKey, RS256, rsa())->UseRealTime();
BENCHMARK_CAPTURE(BM_VerifyJwkKey, ES256, ec())->UseRealTime();
BENCHMARK_CAPTURE(BM_Sign, RS256, rsa())->UseRealTime();
BENCHMARK_CAPTURE(BM_Sign, RS256, rsa())->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_Sign, PS256, ps())->UseRealTime();
BENCHMARK_CAPTURE(BM_Sign, ES256, ec())->UseRealTime();
BENCHMARK_CAPTURE(BM_Sign, ES256, ec())->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_Verify, RS256, rsa())->UseRealTime();
BENCHMARK_CAPTURE(BM_Verify, PS256, ps())->UseRealTime();
BENCHMARK_CAPTURE(BM_Verify, ES256, ec())->UseRealTime();

// The same with a fresh EVP_DigestSign/Verify context per call (no pooling), for comparison.
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, identity::ossl::Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

identity::ossl::Pkey private_pkey(
    const SigningKey& key) {  // the library does not expose it: read back the PEM
  std::string pem = key.to_pem();
  identity::ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return identity::ossl::Pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::vector<unsigned char> digest_sign(EVP_PKEY* pkey, const std::string& input) {
  std::vector<unsigned char> sig(512);
  size_t len = sig.size();
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey);
  EVP_DigestSign(ctx.get(), sig.data(), &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  sig.resize(len);
  return sig;
}

void BM_SignFreshCtx(benchmark::State& state, const SigningKey& key) {
  const std::string input = signing_input();
  auto pkey = private_pkey(key);
  for (auto _ : state) benchmark::DoNotOptimize(digest_sign(pkey.get(), input));
  state.SetItemsProcessed(state.iterations());
}
void BM_VerifyFreshCtx(benchmark::State& state, const SigningKey& key) {
  const std::string input = signing_input();
  EVP_PKEY* pub = key.public_key().native();
  const auto sig = digest_sign(private_pkey(key).get(), input);  // DER for ES256, as EVP wants it
  for (auto _ : state) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pub);
    if (EVP_DigestVerify(ctx.get(), sig.data(), sig.size(),
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
      state.SkipWithError("verify failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_SignFreshCtx, RS256, rsa())->UseRealTime();
BENCHMARK_CAPTURE(BM_SignFreshCtx, ES256, ec())->UseRealTime();
BENCHMARK_CAPTURE(BM_VerifyFreshCtx, RS256, rsa())->UseRealTime();
BENCHMARK_CAPTURE(BM_VerifyFreshCtx, ES256, ec())->UseRealTime();

// What the IdP does for each token: claims (built beforehand) -> header + payload + signature.
void BM_SignToken(benchmark::State& state, const SigningKey& key) {
  const Json c = claims(1);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string t = sign_claims(c, key);
    bytes = t.size();
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["token_bytes"] =
      benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kAvgThreads);
}
BENCHMARK_CAPTURE(BM_SignToken, RS256, rsa())->UseRealTime();
BENCHMARK_CAPTURE(BM_SignToken, RS256, rsa())->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_SignToken, ES256, ec())->UseRealTime();

ValidatorConfig validator_config(size_t cache_capacity) {
  ValidatorConfig cfg;
  cfg.allowed_issuers = {kIssuer};
  cfg.audience = "dive-api";
  cfg.cache_capacity = cache_capacity;
  return cfg;
}

// Distinct tokens, cycled through a validator whose cache keeps one per shard: every call misses.
void BM_ValidateUncached(benchmark::State& state, const SigningKey& key) {
  static StaticJwks source;
  TokenValidator v(validator_config(1), source);
  std::vector<std::string> tokens;
  for (int i = 0; i < 512; ++i) tokens.push_back(sign_claims(claims(i), key));
  v.prefetch();  // the JWKS fetch (and any lazy key generation) stays out of the timed loop
  size_t i = 0;
  for (auto _ : state) {
    auto r = v.validate(tokens[i++ % tokens.size()]);
    if (!r || r.cached()) state.SkipWithError("expected an uncached valid token");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_ValidateUncached, RS256, rsa())->UseRealTime();
BENCHMARK_CAPTURE(BM_ValidateUncached, ES256, ec())->UseRealTime();

void BM_ValidateCached(benchmark::State& state) {
  static StaticJwks source;
  static TokenValidator v(validator_config(100000), source);
  static const std::vector<std::string> tokens = [] {
    std::vector<std::string> t;
    for (int i = 0; i < 1000; ++i) {
      t.push_back(sign_claims(claims(i), rsa()));
      v.validate(t.back());  // warm the cache
    }
    return t;
  }();
  size_t i = static_cast<size_t>(state.thread_index()) * 7;
  for (auto _ : state) {
    auto r = v.validate(tokens[i++ % tokens.size()]);
    if (!r.cached()) state.SkipWithError("expected a cached token");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidateCached)->UseRealTime();
BENCHMARK(BM_ValidateCached)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
