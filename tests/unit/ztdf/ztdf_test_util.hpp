#pragma once
// Shared fixtures of the ZTDF unit tests. The keys are TEST ONLY keys from data/golden.json, which also holds
// an object made with them by format 1.0 (a compatibility fixture: stored documents must keep validating).
#include <string>
#include <vector>

#include "ztdf/ztdf.hpp"

namespace dive::ztdf::test {

struct TestKas {
  std::string url;
  std::string kid;
  PrivateKey private_key;
  KasPublicKey public_entry() const { return {url, kid, private_key.public_key()}; }
};

const Json& golden();              // data/golden.json
std::string golden_object_text();  // its "object", as compact JSON text

const TestKas& kas_a();  // https://kas-a.test:10000, kid "kas-a-1"
const TestKas& kas_b();  // https://kas-b.test:10001, kid "kas-b-1"
const PrivateKey& client_key();

// A lookup that knows both test KAS keys by kid.
KasKeyLookup both_kas();

// SECRET//FVEY//REL USA, GBR, CAN, AUS, NZL
SecurityLabel fvey_label();

std::string sample_text(size_t bytes = 2048);

// A document encrypted for kas_a and kas_b (two KAOs), fixed id and time.
Object two_kas_object(const std::string& id = "doc-USA-test-00001");

// The data key of an object, through kas_a.
DataKey key_of(const Object& object);

}  // namespace dive::ztdf::test
