// Encrypt / serialize / parse / decrypt round trips, the JSON shape, and strict reading.
#include <gtest/gtest.h>

#include <set>

#include "common/encoding.hpp"
#include "ztdf/ztdf.hpp"
#include "ztdf_test_util.hpp"

using namespace dive;
using namespace dive::ztdf;
using namespace dive::ztdf::test;

TEST(Object, RoundTripThroughJson) {
  const Object o = two_kas_object();
  const std::string text = serialize(o);
  const Object back = parse_object(text);
  EXPECT_EQ(back, o);
  EXPECT_EQ(serialize(back), text);
  EXPECT_EQ(decrypt(back, key_of(back)), sample_text());
  EXPECT_TRUE(validate_structure(back).ok());
  ValidationReport r = validate(back, both_kas());
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_TRUE(r.keyed);
}

TEST(Object, PlaintextsOfEveryShape) {
  for (const std::string& plain : {std::string(), std::string("x"), std::string("\0\xff\x01", 3),
                                   std::string(100'000, 'z'), std::string("\xc3\xa9t\xc3\xa9")}) {
    Object o = encrypt(plain, fvey_label(), {kas_a().public_entry()});
    Object back = parse_object(serialize(o));
    EXPECT_EQ(back.manifest.payload_size, plain.size());
    EXPECT_EQ(decrypt(back, key_of(back)), plain);
    EXPECT_TRUE(validate(back, key_of(back)).ok());
  }
}

TEST(Object, JsonShape) {
  const Object o = two_kas_object();
  const Json j = to_json(o);
  // Top level: the four parts of docs/DOCUMENTS.md.
  EXPECT_EQ(j.size(), 4u);
  const Json& m = j.at("manifest");
  EXPECT_EQ(m.at("version"), "1.0");
  EXPECT_EQ(m.at("objectId"), "doc-USA-test-00001");
  EXPECT_EQ(m.at("objectType"), "document");
  EXPECT_EQ(m.at("contentType"), "text/plain");
  EXPECT_EQ(m.at("owner"), "testuser-usa-4");
  EXPECT_EQ(m.at("ownerOrganization"), "USA_GOVERNMENT");
  EXPECT_EQ(m.at("createdAt"), "2026-01-21T00:00:00.000Z");
  EXPECT_EQ(m.at("payloadSize"), 2048);
  const Json& p = j.at("policy");
  EXPECT_EQ(p.at("version"), "1.0");
  EXPECT_EQ(p.at("objectId"), "doc-USA-test-00001");
  const Json& l = p.at("securityLabel");
  EXPECT_EQ(l.at("classification"), "SECRET");
  EXPECT_EQ(l.at("releasabilityTo"), Json({"USA", "GBR", "CAN", "AUS", "NZL"}));
  EXPECT_EQ(l.at("COI"), Json({"FVEY"}));
  EXPECT_EQ(l.at("coiOperator"), "ALL");
  EXPECT_EQ(l.at("caveats"), Json::array());
  EXPECT_EQ(l.at("originatingCountry"), "USA");
  EXPECT_EQ(l.at("creationDate"), "2026-01-21T00:00:00.000Z");
  EXPECT_EQ(l.at("releasableToIndustry"), false);
  EXPECT_EQ(l.at("displayMarking"), "SECRET//FVEY//REL USA, GBR, CAN, AUS, NZL");
  const Json& pl = j.at("payload");
  EXPECT_EQ(pl.at("encryptionAlgorithm"), "AES-256-GCM");
  EXPECT_EQ(base64_decode(pl.at("iv").get<std::string>())->size(), 12u);
  EXPECT_EQ(base64_decode(pl.at("authTag").get<std::string>())->size(), 16u);
  EXPECT_EQ(base64_decode(pl.at("ciphertext").get<std::string>())->size(), 2048u);
  const Json& in = pl.at("integrity");
  EXPECT_EQ(in.at("policyHash"), policy_hash_hex(o.policy));
  EXPECT_EQ(in.at("policyHash").get<std::string>().size(), 96u);
  EXPECT_EQ(in.at("payloadHash").get<std::string>().size(), 96u);
  EXPECT_EQ(in.at("segmentHashAlg"), "SHA-256");
  EXPECT_EQ(in.at("segments").at(0).at("hash"), sha256_hex(o.payload.ciphertext));
  EXPECT_EQ(in.at("segments").at(0).at("segmentSize"), 2048);
  EXPECT_EQ(in.at("segments").at(0).at("encryptedSegmentSize"), 2048);
  EXPECT_EQ(in.at("rootSignature").at("alg"), "HS256");
  const Json& k = j.at("keyAccessObjects").at(0);
  EXPECT_EQ(k.at("type"), "wrapped");
  EXPECT_EQ(k.at("protocol"), "kas");
  EXPECT_EQ(k.at("url"), "https://kas-a.test:10000");
  EXPECT_EQ(k.at("kid"), "kas-a-1");
  EXPECT_EQ(k.at("wrappingAlgorithm"), "RSA-OAEP-256");
  EXPECT_EQ(base64_decode(k.at("wrappedKey").get<std::string>())->size(), 256u);
  EXPECT_EQ(k.at("policyBinding").at("alg"), "HS256");
  EXPECT_EQ(base64_decode(k.at("policyBinding").at("hash").get<std::string>())->size(), 32u);
}

TEST(Object, BindingCoversTheWholePolicy) {
  const Object o = two_kas_object();
  // The canonical policy is RFC 8785 JSON of every member, label included (unlike the system we replace).
  const std::string canonical = canonical_policy(o.policy);
  EXPECT_EQ(
      canonical,
      R"({"objectId":"doc-USA-test-00001","securityLabel":{"COI":["FVEY"],"caveats":[],)"
      R"("classification":"SECRET","coiOperator":"ALL","creationDate":"2026-01-21T00:00:00.000Z",)"
      R"("displayMarking":"SECRET//FVEY//REL USA, GBR, CAN, AUS, NZL","originatingCountry":"USA",)"
      R"("releasabilityTo":["USA","GBR","CAN","AUS","NZL"],"releasableToIndustry":false},"version":"1.0"})");
  EXPECT_EQ(o.payload.integrity.policy_hash, hex_encode(sha384(canonical)));
  DataKey key = key_of(o);
  for (const auto& kao : o.key_access) EXPECT_TRUE(verify_binding(o.policy, kao, key));
  // Every label attribute changes the hash.
  Policy p = o.policy;
  std::set<std::string> hashes{policy_hash_hex(p)};
  p.label.releasable_to_industry = true;
  hashes.insert(policy_hash_hex(p));
  p.label.coi_operator = CoiOperator::kAny;
  hashes.insert(policy_hash_hex(p));
  p.label.caveats = {"NOFORN"};
  hashes.insert(policy_hash_hex(p));
  p.label.original_classification = "SECRET";
  hashes.insert(policy_hash_hex(p));
  p.label.creation_date = "2026-01-22T00:00:00.000Z";
  hashes.insert(policy_hash_hex(p));
  p.label.originating_country = "GBR";
  hashes.insert(policy_hash_hex(p));
  p.object_id = "doc-other";
  hashes.insert(policy_hash_hex(p));
  EXPECT_EQ(hashes.size(), 8u);
}

TEST(Object, EncryptFillsDefaultsAndUsesFreshKeys) {
  SecurityLabel l = fvey_label();
  l.creation_date.clear();
  Object a = encrypt("same", l, {kas_a().public_entry()});
  Object b = encrypt("same", l, {kas_a().public_entry()});
  EXPECT_EQ(a.manifest.object_id.rfind("doc-", 0), 0u);
  EXPECT_EQ(a.manifest.object_id.size(), 40u);  // doc- + UUID
  EXPECT_NE(a.manifest.object_id, b.manifest.object_id);
  EXPECT_TRUE(is_rfc3339(a.manifest.created_at));
  EXPECT_EQ(a.policy.label.creation_date, a.manifest.created_at);
  EXPECT_EQ(a.policy.label.display_marking, "SECRET//FVEY//REL USA, GBR, CAN, AUS, NZL");
  EXPECT_NE(a.payload.iv, b.payload.iv);
  EXPECT_NE(a.payload.ciphertext, b.payload.ciphertext);
  EXPECT_FALSE(key_of(a) == key_of(b));

  ObjectInfo nato;
  nato.marking_style = MarkingStyle::kNato;
  EXPECT_EQ(encrypt("x", fvey_label(), {kas_a().public_entry()}, nato).policy.label.display_marking,
            "NATO SECRET//FVEY//REL USA, GBR, CAN, AUS, NZL");
  EXPECT_EQ(format_timestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(1768953600123))),
            "2026-01-21T00:00:00.123Z");
}

TEST(Object, EncryptRefusesBadInput) {
  auto refuse = [](SecurityLabel l, const std::vector<KasPublicKey>& kas, const ObjectInfo& info,
                   const std::string& path) {
    try {
      encrypt("x", std::move(l), kas, info);
      ADD_FAILURE() << "accepted, expected an error at " << path;
    } catch (const FormatError& e) {
      EXPECT_EQ(e.path(), path) << e.what();
    }
  };
  const std::vector<KasPublicKey> one = {kas_a().public_entry()};
  SecurityLabel l = fvey_label();
  l.display_marking = "TOP SECRET//FVEY//REL USA";
  refuse(l, one, {}, "/policy/securityLabel/displayMarking");
  l = fvey_label();
  l.releasability_to.clear();
  refuse(l, one, {}, "/policy/securityLabel/releasabilityTo");
  l = fvey_label();
  l.coi.push_back("FVEY");
  refuse(l, one, {}, "/policy/securityLabel/COI/1");
  refuse(fvey_label(), {}, {}, "/keyAccessObjects");
  refuse(fvey_label(), {kas_a().public_entry(), kas_a().public_entry()}, {}, "/keyAccessObjects/1");
  refuse(fvey_label(), {{"ftp://kas", "k", kas_a().private_key.public_key()}}, {}, "/keyAccessObjects/0/url");
  refuse(fvey_label(), {{"https://kas", "bad kid", kas_a().private_key.public_key()}}, {},
         "/keyAccessObjects/0/kid");
  ObjectInfo info;
  info.object_id = "doc with spaces";
  refuse(fvey_label(), one, info, "/manifest/objectId");
  info = {};
  info.created_at = "now";
  refuse(fvey_label(), one, info, "/manifest/createdAt");
}

TEST(Object, DecryptNeedsTheRightKey) {
  const Object o = two_kas_object();
  EXPECT_THROW(decrypt(o, DataKey::generate()), IntegrityError);
  try {
    decrypt(o, DataKey::generate());
  } catch (const IntegrityError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIntegrity);
  }
}

TEST(Object, StrictReading) {
  const Json good = to_json(two_kas_object());
  auto expect_error = [](const Json& bad, const std::string& path) {
    try {
      object_from_json(bad);
      ADD_FAILURE() << "accepted; expected an error at " << path;
    } catch (const FormatError& e) {
      EXPECT_EQ(e.path(), path) << e.what();
    }
  };
  auto patched = [&](const std::string& pointer, Json value) {
    Json b = good;
    b[Json::json_pointer(pointer)] = std::move(value);
    return b;
  };
  auto removed = [&](const std::string& parent, const std::string& key) {
    Json b = good;
    b[Json::json_pointer(parent)].erase(key);
    return b;
  };
  expect_error(removed("", "manifest"), "/manifest");
  expect_error(patched("/extra", 1), "");
  expect_error(patched("/manifest/version", "2.0"), "/manifest/version");
  expect_error(patched("/manifest/payloadSize", -1), "/manifest/payloadSize");
  EXPECT_NO_THROW(object_from_json(patched("/manifest/payloadSize", int64_t{7})));  // signed but non-negative
  expect_error(patched("/manifest/payloadSize", 2048.0), "/manifest/payloadSize");
  expect_error(patched("/manifest/payloadSize", "2048"), "/manifest/payloadSize");
  expect_error(patched("/manifest/owner", "a\nb"), "/manifest/owner");
  expect_error(removed("/manifest", "createdAt"), "/manifest/createdAt");
  expect_error(patched("/policy/version", 1), "/policy/version");
  expect_error(patched("/policy/securityLabel/COI", nullptr), "/policy/securityLabel/COI");
  expect_error(patched("/payload/encryptionAlgorithm", "AES-128-GCM"), "/payload/encryptionAlgorithm");
  expect_error(patched("/payload/iv", base64_encode("short")), "/payload/iv");
  expect_error(patched("/payload/iv", "not base64!"), "/payload/iv");
  expect_error(patched("/payload/authTag", "AAAA"), "/payload/authTag");
  expect_error(patched("/payload/ciphertext", "QQ"), "/payload/ciphertext");  // unpadded
  expect_error(patched("/payload/integrity/policyHash", "ABC"), "/payload/integrity/policyHash");
  expect_error(patched("/payload/integrity/policyHash", std::string(96, 'A')),
               "/payload/integrity/policyHash");
  expect_error(patched("/payload/integrity/segments", Json::array()), "/payload/integrity/segments");
  expect_error(patched("/payload/integrity/segmentHashAlg", "MD5"), "/payload/integrity/segmentHashAlg");
  expect_error(patched("/payload/integrity/rootSignature/alg", "none"),
               "/payload/integrity/rootSignature/alg");
  expect_error(patched("/keyAccessObjects", Json::array()), "/keyAccessObjects");
  expect_error(patched("/keyAccessObjects/0/type", "remote"), "/keyAccessObjects/0/type");
  expect_error(patched("/keyAccessObjects/1/wrappingAlgorithm", "RSA1_5"),
               "/keyAccessObjects/1/wrappingAlgorithm");
  expect_error(patched("/keyAccessObjects/1/wrappedKey", base64_encode("k")),
               "/keyAccessObjects/1/wrappedKey");
  expect_error(patched("/keyAccessObjects/0/policyBinding/alg", "HS512"),
               "/keyAccessObjects/0/policyBinding/alg");
  expect_error(patched("/keyAccessObjects/0/url", "javascript:alert(1)"), "/keyAccessObjects/0/url");
  expect_error(patched("/keyAccessObjects/0/kid", ""), "/keyAccessObjects/0/kid");
  Json many = good;
  for (int i = 0; i < 20; ++i) many["keyAccessObjects"].push_back(good["keyAccessObjects"][0]);
  expect_error(many, "/keyAccessObjects");
}

TEST(Object, TextParsingRefusesDuplicatesNulsAndDepth) {
  const std::string text = serialize(two_kas_object());
  // A duplicate member: two parsers could read two different labels.
  std::string dup = text;
  dup.insert(dup.find("\"classification\""), R"("classification":"UNCLASSIFIED",)");
  EXPECT_THROW(parse_object(dup), FormatError);
  EXPECT_THROW(parse_object(text + std::string(1, '\0')), FormatError);
  EXPECT_THROW(parse_object(std::string(100, '[') + std::string(100, ']')), FormatError);
  EXPECT_THROW(parse_object(""), FormatError);
  EXPECT_THROW(parse_object("null"), FormatError);
  EXPECT_THROW(parse_object(text.substr(0, text.size() / 2)), FormatError);
  try {
    parse_object(dup);
  } catch (const FormatError& e) {
    EXPECT_EQ(std::string(e.what()).find("UNCLASSIFIED"), std::string::npos);  // values are not echoed
  }
}

TEST(Object, PolicyAndKaoParseOnTheirOwn) {
  const Object o = two_kas_object();
  EXPECT_EQ(parse_policy(to_json(o.policy).dump()), o.policy);
  EXPECT_EQ(parse_kao(to_json(o.key_access[1]).dump()), o.key_access[1]);
  EXPECT_THROW(parse_kao("{}"), FormatError);
}

TEST(PdpInput, ResourceAttributesFromTheObject) {
  const Object o = two_kas_object();
  ValidationReport report = validate_structure(o);
  const Json r = resource_attributes(o, report);
  EXPECT_EQ(r.at("resourceId"), "doc-USA-test-00001");
  EXPECT_EQ(r.at("classification"), "SECRET");
  EXPECT_EQ(r.at("releasabilityTo"), Json({"USA", "GBR", "CAN", "AUS", "NZL"}));
  EXPECT_EQ(r.at("COI"), Json({"FVEY"}));
  EXPECT_EQ(r.at("coiOperator"), "ALL");
  EXPECT_EQ(r.at("caveats"), Json::array());
  EXPECT_EQ(r.at("creationDate"), "2026-01-21T00:00:00.000Z");
  EXPECT_EQ(r.at("encrypted"), true);
  EXPECT_EQ(r.at("releasableToIndustry"), false);
  EXPECT_EQ(r.at("originalClassification"), "SECRET");
  EXPECT_EQ(r.at("originalCountry"), "USA");
  EXPECT_EQ(r.at("kasUrl"), "https://kas-a.test:10000");
  EXPECT_EQ(r.at("ztdf").at("integrityValidated"), true);
  EXPECT_EQ(r.at("ztdf").at("policyHash"), o.payload.integrity.policy_hash);
  EXPECT_EQ(r.at("ztdf").at("payloadHash"), o.payload.integrity.payload_hash);

  Object tampered = o;
  tampered.policy.label.classification = Classification::kUnclassified;
  tampered.policy.label.display_marking = display_marking(tampered.policy.label);
  EXPECT_EQ(ztdf_attributes(tampered, validate_structure(tampered)).at("integrityValidated"), false);
}

TEST(Object, GoldenObjectOfFormat10StillValidates) {
  // Made once by this library (data/golden.json). If this fails, stored documents would stop opening.
  const Json stored = golden().at("object");
  const Object o = parse_object(golden_object_text());
  EXPECT_EQ(to_json(o), stored);
  EXPECT_EQ(o.manifest.object_id, "doc-USA-golden-00001");
  EXPECT_EQ(policy_hash_hex(o.policy), stored.at("payload").at("integrity").at("policyHash"));
  ValidationReport r = validate(o, both_kas());
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(decrypt(o, open_key_access(o.policy, o.key_access[1], kas_b().private_key)), sample_text());
}
