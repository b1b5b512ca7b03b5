#include "ztdf_test_util.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace dive::ztdf::test {

const Json& golden() {
  static const Json j = [] {
    std::ifstream in(std::string(DIVE_ZTDF_TEST_DATA) + "/golden.json");
    if (!in) throw std::runtime_error("tests/unit/ztdf/data/golden.json is missing");
    std::stringstream ss;
    ss << in.rdbuf();
    return Json::parse(ss.str());
  }();
  return j;
}

const TestKas& kas_a() {
  static const TestKas k{"https://kas-a.test:10000", "kas-a-1",
                         PrivateKey::from_pem(golden().at("kasA").get<std::string>())};
  return k;
}

const TestKas& kas_b() {
  static const TestKas k{"https://kas-b.test:10001", "kas-b-1",
                         PrivateKey::from_pem(golden().at("kasB").get<std::string>())};
  return k;
}

const PrivateKey& client_key() {
  static const PrivateKey k = PrivateKey::from_pem(golden().at("client").get<std::string>());
  return k;
}

std::string golden_object_text() {
  return golden().at("object").dump();
}

KasKeyLookup both_kas() {
  return [](const KeyAccessObject& kao) -> const PrivateKey* {
    if (kao.kid == kas_a().kid) return &kas_a().private_key;
    if (kao.kid == kas_b().kid) return &kas_b().private_key;
    return nullptr;
  };
}

SecurityLabel fvey_label() {
  SecurityLabel l;
  l.classification = Classification::kSecret;
  l.releasability_to = {"USA", "GBR", "CAN", "AUS", "NZL"};
  l.coi = {"FVEY"};
  l.coi_operator = CoiOperator::kAll;
  l.originating_country = "USA";
  l.creation_date = "2026-01-21T00:00:00.000Z";
  return l;
}

std::string sample_text(size_t bytes) {
  std::string s;
  s.reserve(bytes);
  const std::string line = "DoD Intelligence Brief - Arctic Operations. Sensitive summary line. ";
  while (s.size() < bytes) s += line;
  s.resize(bytes);
  return s;
}

Object two_kas_object(const std::string& id) {
  ObjectInfo info;
  info.object_id = id;
  info.owner = "testuser-usa-4";
  info.owner_organization = "USA_GOVERNMENT";
  info.created_at = "2026-01-21T00:00:00.000Z";
  return encrypt(sample_text(), fvey_label(), {kas_a().public_entry(), kas_b().public_entry()}, info);
}

DataKey key_of(const Object& object) {
  for (const auto& kao : object.key_access)
    if (kao.kid == kas_a().kid) return unwrap_key(kao, kas_a().private_key);
  return unwrap_key(object.key_access.at(0), kas_b().private_key);
}

}  // namespace dive::ztdf::test
