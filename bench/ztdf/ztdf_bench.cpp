// The ZTDF library on a 2 KiB document with RSA-2048 KAS keys (the seeding and KAS hot paths):
//   EncryptSerialize/N – encrypt for N KAS keys + serialize to JSON text: one seeded document (items/s =
//   docs/s) Encrypt/N          – encrypt alone; Serialize / Parse – JSON out and in (strict reader) Unwrap –
//   RSA-OAEP-256 unwrap with the KAS private key OpenKeyAccess      – unwrap + policy binding check (what the
//   KAS does before it asks the PDP) Decrypt            – AES-256-GCM open of the 2 KiB payload (policy hash
//   recomputed for the AAD) Rewrap             – the data key wrapped to a client public key (clientPublicKey
//   flow) ValidateStructure / ValidateKeyed – tamper checks without / with the KAS keys
// Run: build/<dir>/bench/ztdf/bench_ztdf --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "ztdf/ztdf.hpp"

using namespace dive::ztdf;

namespace {

struct Fixture {
  PrivateKey kas_a = PrivateKey::generate_rsa(2048);
  PrivateKey kas_b = PrivateKey::generate_rsa(2048);
  PrivateKey client = PrivateKey::generate_rsa(2048);
  std::vector<KasPublicKey> one{{"https://localhost:10000", "usa-kas-1", kas_a.public_key()}};
  std::vector<KasPublicKey> two{{"https://localhost:10000", "usa-kas-1", kas_a.public_key()},
                                {"https://localhost:10002", "gbr-kas-1", kas_b.public_key()}};
  std::string text = std::string(2048, 'x');

  SecurityLabel label() const {
    SecurityLabel l;
    l.classification = Classification::kSecret;
    l.releasability_to = {"USA", "GBR", "CAN", "AUS", "NZL"};
    l.coi = {"FVEY"};
    l.originating_country = "USA";
    l.creation_date = "2026-01-21T00:00:00.000Z";
    return l;
  }
  ObjectInfo info(int64_t n) const {
    ObjectInfo i;
    i.object_id = "doc-USA-seed-1768953600000-" + std::to_string(n);
    i.owner = "system-seed-usa";
    i.owner_organization = "USA_GOVERNMENT";
    i.created_at = "2026-01-21T00:00:00.000Z";
    return i;
  }
};

const Fixture& fx() {
  static const Fixture f;
  return f;
}

const std::vector<KasPublicKey>& kas(int n) {
  return n == 1 ? fx().one : fx().two;
}

void BM_EncryptSerialize(benchmark::State& state) {
  const auto& keys = kas(static_cast<int>(state.range(0)));
  const SecurityLabel label = fx().label();
  int64_t n = 0;
  for (auto _ : state) {
    std::string json = serialize(encrypt(fx().text, label, keys, fx().info(++n)));
    benchmark::DoNotOptimize(json);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncryptSerialize)->Arg(1)->Arg(2);
BENCHMARK(BM_EncryptSerialize)->Arg(1)->Arg(2)->Threads(2)->UseRealTime();

void BM_Encrypt(benchmark::State& state) {
  const auto& keys = kas(static_cast<int>(state.range(0)));
  const SecurityLabel label = fx().label();
  int64_t n = 0;
  for (auto _ : state) {
    Object o = encrypt(fx().text, label, keys, fx().info(++n));
    benchmark::DoNotOptimize(o);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Encrypt)->Arg(1)->Arg(2);

void BM_Serialize(benchmark::State& state) {
  const Object o = encrypt(fx().text, fx().label(), fx().two, fx().info(1));
  for (auto _ : state) {
    std::string json = serialize(o);
    benchmark::DoNotOptimize(json);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Serialize);

void BM_Parse(benchmark::State& state) {
  const std::string json = serialize(encrypt(fx().text, fx().label(), fx().two, fx().info(1)));
  for (auto _ : state) {
    Object o = parse_object(json);
    benchmark::DoNotOptimize(o);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Parse);

void BM_Unwrap(benchmark::State& state) {
  const Object o = encrypt(fx().text, fx().label(), fx().one, fx().info(1));
  for (auto _ : state) {
    DataKey k = unwrap_key(o.key_access[0], fx().kas_a);
    benchmark::DoNotOptimize(k);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Unwrap);
BENCHMARK(BM_Unwrap)->Threads(2)->UseRealTime();

void BM_OpenKeyAccess(benchmark::State& state) {
  const Object o = encrypt(fx().text, fx().label(), fx().one, fx().info(1));
  for (auto _ : state) {
    DataKey k = open_key_access(o.policy, o.key_access[0], fx().kas_a);
    benchmark::DoNotOptimize(k);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OpenKeyAccess);

void BM_Decrypt(benchmark::State& state) {
  const Object o = encrypt(fx().text, fx().label(), fx().one, fx().info(1));
  const DataKey key = unwrap_key(o.key_access[0], fx().kas_a);
  for (auto _ : state) {
    std::string plain = decrypt(o, key);
    benchmark::DoNotOptimize(plain);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(fx().text.size()));
}
BENCHMARK(BM_Decrypt);

void BM_Rewrap(benchmark::State& state) {
  const DataKey key = DataKey::generate();
  const PublicKey client = fx().client.public_key();
  for (auto _ : state) {
    std::string wrapped = rewrap(key, client);
    benchmark::DoNotOptimize(wrapped);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Rewrap);

void BM_RewrapFromJwk(benchmark::State& state) {
  // As the KAS does it: parse the clientPublicKey JWK, then wrap.
  const DataKey key = DataKey::generate();
  const dive::Json jwk = fx().client.public_key().to_jwk();
  for (auto _ : state) {
    std::string wrapped = rewrap(key, PublicKey::from_client_key(jwk));
    benchmark::DoNotOptimize(wrapped);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RewrapFromJwk);

void BM_ValidateStructure(benchmark::State& state) {
  const Object o = encrypt(fx().text, fx().label(), fx().two, fx().info(1));
  for (auto _ : state) {
    ValidationReport r = validate_structure(o);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidateStructure);

void BM_ValidateKeyed(benchmark::State& state) {
  const Object o = encrypt(fx().text, fx().label(), fx().two, fx().info(1));
  const KasKeyLookup lookup = [](const KeyAccessObject& kao) -> const PrivateKey* {
    return kao.kid == "usa-kas-1" ? &fx().kas_a : &fx().kas_b;
  };
  for (auto _ : state) {
    ValidationReport r = validate(o, lookup);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidateKeyed);

}  // namespace

BENCHMARK_MAIN();
