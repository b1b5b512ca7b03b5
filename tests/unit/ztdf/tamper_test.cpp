// Every tamper case is detected, with the specific finding(s): each test changes one part of a serialized
// object (as someone with write access to the database could), parses it back, and validates.
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <utility>

#include "common/encoding.hpp"
#include "ztdf/ztdf.hpp"
#include "ztdf_test_util.hpp"

using namespace dive;
using namespace dive::ztdf;
using namespace dive::ztdf::test;

namespace {

using Expected = std::set<std::pair<Check, std::string>>;

const Object& original() {
  static const Object o = two_kas_object("doc-USA-test-00001");
  return o;
}
const Object& other_document() {
  static const Object o = two_kas_object("doc-USA-test-00002");
  return o;
}

// Serialize, edit the JSON, parse back: the path a tampered database row takes.
Object tampered(const std::function<void(Json&)>& edit, const Object& base = original()) {
  Json j = to_json(base);
  edit(j);
  return parse_object(j.dump());
}

Expected findings(const ValidationReport& r) {
  Expected out;
  for (const auto& f : r.findings) out.emplace(f.check, f.path);
  return out;
}

std::string flip_bit(const std::string& base64, size_t byte = 0, int bit = 0) {
  std::string raw = *base64_decode(base64);
  raw.at(byte) = static_cast<char>(raw.at(byte) ^ (1 << bit));
  return base64_encode(raw);
}

std::string other_hex(const std::string& hex) {
  std::string out = hex;
  out[0] = out[0] == '0' ? '1' : '0';
  return out;
}

void set_label(Json& j, const char* key, Json value, bool update_marking) {
  j["policy"]["securityLabel"][key] = std::move(value);
  if (update_marking) {
    SecurityLabel l = label_from_json(j["policy"]["securityLabel"]);
    j["policy"]["securityLabel"]["displayMarking"] = display_marking(l);
  }
}

const std::string kP = "/policy";
const std::string kB0 = "/keyAccessObjects/0/policyBinding";
const std::string kB1 = "/keyAccessObjects/1/policyBinding";
const std::string kW0 = "/keyAccessObjects/0/wrappedKey";
const std::string kRoot = "/payload/integrity/rootSignature";
const std::string kCt = "/payload/ciphertext";

}  // namespace

TEST(Tamper, UntouchedObjectValidates) {
  const Object o = tampered([](Json&) {});
  EXPECT_TRUE(validate_structure(o).ok());
  EXPECT_TRUE(validate(o, both_kas()).ok());
  EXPECT_TRUE(validate(o, key_of(o)).ok());
}

TEST(Tamper, LabelChanged) {
  // Raise the classification (marking updated so that only the binding can tell).
  const Object t = tampered([](Json& j) { set_label(j, "classification", "TOP_SECRET", true); });
  const Expected structure = {{Check::kPolicyHashMismatch, kP}};
  EXPECT_EQ(findings(validate_structure(t)), structure);
  const Expected keyed = {{Check::kPolicyHashMismatch, kP},
                          {Check::kPolicyBindingMismatch, kB0},
                          {Check::kPolicyBindingMismatch, kB1},
                          {Check::kPayloadAuthFailed, kCt}};
  EXPECT_EQ(findings(validate(t, both_kas())), keyed);
  EXPECT_EQ(findings(validate(t, key_of(original()))), keyed);
  // The KAS refuses to release the key for the changed label; the payload does not open under it either.
  EXPECT_THROW(open_key_access(t.policy, t.key_access[0], kas_a().private_key), BindingError);
  EXPECT_THROW(open_key_access(t.policy, t.key_access[1], kas_b().private_key), BindingError);
  EXPECT_THROW(decrypt(t, key_of(original())), IntegrityError);
}

TEST(Tamper, EveryLabelAttributeIsBound) {
  const std::vector<std::pair<const char*, Json>> edits = {
      {"releasabilityTo", {"USA", "GBR", "CAN", "AUS", "NZL", "FRA"}},
      {"releasabilityTo", {"USA", "GBR"}},
      {"COI", Json::array()},
      {"COI", {"FVEY", "NATO"}},
      {"coiOperator", "ANY"},
      {"caveats", {"NOFORN"}},
      {"originatingCountry", "GBR"},
      {"creationDate", "2020-01-01T00:00:00.000Z"},
      {"releasableToIndustry", true},
      {"originalClassification", "GEHEIM"},
  };
  for (const auto& [key, value] : edits) {
    for (bool update_marking : {true, false}) {
      const Object t = tampered([&](Json& j) { set_label(j, key, value, update_marking); });
      ValidationReport r = validate(t, both_kas());
      EXPECT_TRUE(r.has(Check::kPolicyHashMismatch, kP)) << key;
      EXPECT_TRUE(r.has(Check::kPolicyBindingMismatch, kB0)) << key;
      EXPECT_TRUE(r.has(Check::kPolicyBindingMismatch, kB1)) << key;
      EXPECT_TRUE(r.has(Check::kPayloadAuthFailed, kCt)) << key;
      bool marking_changes = std::string(key) != "coiOperator" && std::string(key) != "originatingCountry" &&
                             std::string(key) != "creationDate" &&
                             std::string(key) != "releasableToIndustry" &&
                             std::string(key) != "originalClassification";
      EXPECT_EQ(r.has(Check::kMarkingMismatch), marking_changes && !update_marking) << key;
      EXPECT_THROW(open_key_access(t.policy, t.key_access[0], kas_a().private_key), BindingError) << key;
    }
  }
}

TEST(Tamper, DisplayMarkingChanged) {
  const Object t =
      tampered([](Json& j) { j["policy"]["securityLabel"]["displayMarking"] = "SECRET//REL USA"; });
  const Expected keyed = {{Check::kMarkingMismatch, "/policy/securityLabel/displayMarking"},
                          {Check::kPolicyHashMismatch, kP},
                          {Check::kPolicyBindingMismatch, kB0},
                          {Check::kPolicyBindingMismatch, kB1},
                          {Check::kPayloadAuthFailed, kCt}};
  EXPECT_EQ(findings(validate(t, both_kas())), keyed);
  // Even a consistent re-rendering (NATO names) is a change of the bound policy.
  const Object nato = tampered([](Json& j) {
    j["policy"]["securityLabel"]["displayMarking"] = "NATO SECRET//FVEY//REL USA, GBR, CAN, AUS, NZL";
  });
  EXPECT_FALSE(validate(nato, both_kas()).has(Check::kMarkingMismatch));
  EXPECT_TRUE(validate(nato, both_kas()).has(Check::kPolicyBindingMismatch, kB0));
}

TEST(Tamper, LabelChangedAndPolicyHashRecomputed) {
  // An attacker who knows the format recomputes the unkeyed hash: only the keyed checks can tell.
  const Object t = tampered([](Json& j) {
    set_label(j, "releasabilityTo", {"USA", "GBR", "CAN", "AUS", "NZL", "CHN"}, true);
    j["payload"]["integrity"]["policyHash"] = policy_hash_hex(policy_from_json(j["policy"]));
  });
  EXPECT_TRUE(validate_structure(t).ok());
  const Expected keyed = {{Check::kPolicyBindingMismatch, kB0},
                          {Check::kPolicyBindingMismatch, kB1},
                          {Check::kRootSignatureMismatch, kRoot},
                          {Check::kPayloadAuthFailed, kCt}};
  EXPECT_EQ(findings(validate(t, both_kas())), keyed);
  EXPECT_FALSE(ztdf_attributes(t, validate(t, both_kas())).at("integrityValidated").get<bool>());
  EXPECT_THROW(open_key_access(t.policy, t.key_access[0], kas_a().private_key), BindingError);
}

TEST(Tamper, PayloadChanged) {
  const Object ct =
      tampered([](Json& j) { j["payload"]["ciphertext"] = flip_bit(j["payload"]["ciphertext"], 100, 3); });
  const Expected expected_ct = {{Check::kSegmentHashMismatch, kCt},
                                {Check::kPayloadHashMismatch, "/payload"},
                                {Check::kPayloadAuthFailed, kCt}};
  EXPECT_EQ(findings(validate(ct, both_kas())), expected_ct);
  EXPECT_THROW(decrypt(ct, key_of(ct)), IntegrityError);

  const Expected iv_or_tag = {{Check::kPayloadHashMismatch, "/payload"}, {Check::kPayloadAuthFailed, kCt}};
  const Object iv = tampered([](Json& j) { j["payload"]["iv"] = flip_bit(j["payload"]["iv"], 11, 7); });
  EXPECT_EQ(findings(validate(iv, both_kas())), iv_or_tag);
  EXPECT_THROW(decrypt(iv, key_of(iv)), IntegrityError);
  const Object tag =
      tampered([](Json& j) { j["payload"]["authTag"] = flip_bit(j["payload"]["authTag"], 0, 0); });
  EXPECT_EQ(findings(validate(tag, both_kas())), iv_or_tag);
  EXPECT_THROW(decrypt(tag, key_of(tag)), IntegrityError);
}

TEST(Tamper, PayloadChangedAndHashesRecomputed) {
  const Object t = tampered([](Json& j) {
    j["payload"]["ciphertext"] = flip_bit(j["payload"]["ciphertext"], 5, 1);
    Payload p = payload_from_json(j["payload"]);
    j["payload"]["integrity"]["segments"][0]["hash"] = segment_hash_hex(p);
    j["payload"]["integrity"]["payloadHash"] = payload_hash_hex(p);
  });
  EXPECT_TRUE(validate_structure(t).ok());
  const Expected keyed = {{Check::kRootSignatureMismatch, kRoot}, {Check::kPayloadAuthFailed, kCt}};
  EXPECT_EQ(findings(validate(t, both_kas())), keyed);
}

TEST(Tamper, PayloadMovedFromAnotherDocument) {
  const Object t = tampered([](Json& j) { j["payload"] = to_json(other_document().payload); });
  const Expected keyed = {{Check::kPolicyHashMismatch, kP},
                          {Check::kRootSignatureMismatch, kRoot},
                          {Check::kPayloadAuthFailed, kCt}};
  EXPECT_EQ(findings(validate(t, both_kas())), keyed);
  EXPECT_THROW(decrypt(t, key_of(original())), IntegrityError);
}

TEST(Tamper, PolicyMovedFromAnotherDocument) {
  const Object t = tampered([](Json& j) { j["policy"] = to_json(other_document().policy); });
  const Expected keyed = {{Check::kObjectIdMismatch, "/manifest/objectId"},
                          {Check::kPolicyHashMismatch, kP},
                          {Check::kPolicyBindingMismatch, kB0},
                          {Check::kPolicyBindingMismatch, kB1},
                          {Check::kPayloadAuthFailed, kCt}};
  EXPECT_EQ(findings(validate(t, both_kas())), keyed);
}

TEST(Tamper, WrappedKeyCorrupted) {
  const Object t = tampered([](Json& j) {
    j["keyAccessObjects"][0]["wrappedKey"] = flip_bit(j["keyAccessObjects"][0]["wrappedKey"], 17, 2);
  });
  const Expected keyed = {{Check::kUnwrapFailed, kW0}};
  EXPECT_EQ(findings(validate(t, both_kas())), keyed);
  EXPECT_THROW(unwrap_key(t.key_access[0], kas_a().private_key), UnwrapError);
  EXPECT_THROW(open_key_access(t.policy, t.key_access[0], kas_a().private_key), UnwrapError);

  // With a single KAO nothing else can supply the key: the keyed checks cannot run, and say so.
  ObjectInfo info;
  info.object_id = "doc-single";
  const Object single = encrypt("x", fvey_label(), {kas_a().public_entry()}, info);
  const Object t1 = tampered(
      [](Json& j) {
        j["keyAccessObjects"][0]["wrappedKey"] = flip_bit(j["keyAccessObjects"][0]["wrappedKey"]);
      },
      single);
  const Expected single_expected = {{Check::kUnwrapFailed, kW0},
                                    {Check::kNoKeyAvailable, "/keyAccessObjects"}};
  ValidationReport r = validate(t1, both_kas());
  EXPECT_EQ(findings(r), single_expected);
  EXPECT_FALSE(r.keyed);
}

TEST(Tamper, WrappedKeyFromAnotherDocument) {
  // The KAO (wrapped key and binding) of another document for the same KAS: it unwraps, to the wrong key.
  const Object t =
      tampered([](Json& j) { j["keyAccessObjects"][0] = to_json(other_document().key_access[0]); });
  const Expected keyed = {{Check::kKeyMismatch, kW0}, {Check::kPolicyBindingMismatch, kB0}};
  EXPECT_EQ(findings(validate(t, both_kas())), keyed);
  EXPECT_THROW(open_key_access(t.policy, t.key_access[0], kas_a().private_key), BindingError);

  // Only the wrapped key replaced, the binding kept.
  const Object w = tampered([](Json& j) {
    j["keyAccessObjects"][0]["wrappedKey"] = to_json(other_document().key_access[0])["wrappedKey"];
  });
  EXPECT_EQ(findings(validate(w, both_kas())), Expected({{Check::kKeyMismatch, kW0}}));
  EXPECT_THROW(open_key_access(w.policy, w.key_access[0], kas_a().private_key), BindingError);
}

TEST(Tamper, WrappedKeyReplacedByAttackerKeyWithValidBinding) {
  // Someone with the KAS public key wraps a key of their own and binds it to this policy correctly. The KAS
  // would release that key (it is the attacker's anyway); validation names the KAO that is not the
  // document's.
  const DataKey own = DataKey::generate();
  const KeyAccessObject forged = wrap_key(own, original().policy, kas_a().public_entry());
  const Object t = tampered([&](Json& j) { j["keyAccessObjects"][0] = to_json(forged); });
  const Expected keyed = {{Check::kKeyMismatch, kW0}, {Check::kPolicyBindingMismatch, kB0}};
  EXPECT_EQ(findings(validate(t, both_kas())), keyed);
  EXPECT_THROW(decrypt(t, open_key_access(t.policy, t.key_access[0], kas_a().private_key)), IntegrityError);
}

TEST(Tamper, PolicyBindingChanged) {
  const Object t = tampered([](Json& j) {
    j["keyAccessObjects"][1]["policyBinding"]["hash"] =
        flip_bit(j["keyAccessObjects"][1]["policyBinding"]["hash"]);
  });
  const Expected keyed = {{Check::kPolicyBindingMismatch, kB1}};
  EXPECT_EQ(findings(validate(t, both_kas())), keyed);
  EXPECT_THROW(open_key_access(t.policy, t.key_access[1], kas_b().private_key), BindingError);
}

TEST(Tamper, KaoUrlOrKidChanged) {
  const Expected root = {{Check::kRootSignatureMismatch, kRoot}};
  const Object url =
      tampered([](Json& j) { j["keyAccessObjects"][0]["url"] = "https://evil.example:10000"; });
  EXPECT_EQ(findings(validate(url, both_kas())), root);
  EXPECT_TRUE(validate_structure(url).ok());  // a URL is only covered by the keyed root signature
  // kid pointing at the other KAS: that key cannot unwrap it.
  const Object kid = tampered([](Json& j) { j["keyAccessObjects"][0]["kid"] = "kas-b-1"; });
  const Expected kid_expected = {{Check::kUnwrapFailed, kW0}, {Check::kRootSignatureMismatch, kRoot}};
  EXPECT_EQ(findings(validate(kid, both_kas())), kid_expected);
  // kid naming a key nobody here has: that KAO is skipped, the root signature still catches it.
  const Object unknown = tampered([](Json& j) { j["keyAccessObjects"][0]["kid"] = "kas-z-9"; });
  EXPECT_EQ(findings(validate(unknown, both_kas())), root);
  // Reordered or removed KAOs.
  const Object swapped =
      tampered([](Json& j) { std::swap(j["keyAccessObjects"][0], j["keyAccessObjects"][1]); });
  EXPECT_EQ(findings(validate(swapped, both_kas())), root);
  const Object removed = tampered([](Json& j) { j["keyAccessObjects"].erase(1); });
  EXPECT_EQ(findings(validate(removed, both_kas())), root);
}

TEST(Tamper, ManifestChanged) {
  const Expected root = {{Check::kRootSignatureMismatch, kRoot}};
  const Object id = tampered([](Json& j) { j["manifest"]["objectId"] = "doc-USA-test-99999"; });
  const Expected id_expected = {{Check::kObjectIdMismatch, "/manifest/objectId"},
                                {Check::kRootSignatureMismatch, kRoot}};
  EXPECT_EQ(findings(validate(id, both_kas())), id_expected);
  EXPECT_EQ(findings(validate_structure(id)), Expected({{Check::kObjectIdMismatch, "/manifest/objectId"}}));
  for (const auto& [key, value] :
       std::vector<std::pair<const char*, Json>>{{"createdAt", "2020-01-01T00:00:00.000Z"},
                                                 {"owner", "someone-else"},
                                                 {"ownerOrganization", "GBR_GOVERNMENT"},
                                                 {"contentType", "application/pdf"},
                                                 {"objectType", "image"}}) {
    const Object t = tampered([&](Json& j) { j["manifest"][key] = value; });
    EXPECT_EQ(findings(validate(t, both_kas())), root) << key;
  }
  const Object size = tampered([](Json& j) { j["manifest"]["payloadSize"] = 2047; });
  const Expected size_expected = {{Check::kPayloadSizeMismatch, "/manifest/payloadSize"},
                                  {Check::kRootSignatureMismatch, kRoot}};
  EXPECT_EQ(findings(validate(size, both_kas())), size_expected);
}

TEST(Tamper, IntegrityMembersChanged) {
  const Object seg = tampered([](Json& j) {
    auto& h = j["payload"]["integrity"]["segments"][0]["hash"];
    h = other_hex(h);
  });
  EXPECT_EQ(findings(validate(seg, both_kas())),
            Expected({{Check::kSegmentHashMismatch, kCt}, {Check::kRootSignatureMismatch, kRoot}}));
  const Object sizes = tampered([](Json& j) { j["payload"]["integrity"]["segments"][0]["segmentSize"] = 1; });
  EXPECT_EQ(findings(validate(sizes, both_kas())),
            Expected({{Check::kPayloadSizeMismatch, "/payload/integrity/segments/0"},
                      {Check::kRootSignatureMismatch, kRoot}}));
  const Object payload_hash = tampered([](Json& j) {
    auto& h = j["payload"]["integrity"]["payloadHash"];
    h = other_hex(h);
  });
  EXPECT_EQ(findings(validate(payload_hash, both_kas())),
            Expected({{Check::kPayloadHashMismatch, "/payload"}, {Check::kRootSignatureMismatch, kRoot}}));
  const Object policy_hash = tampered([](Json& j) {
    auto& h = j["payload"]["integrity"]["policyHash"];
    h = other_hex(h);
  });
  EXPECT_EQ(findings(validate(policy_hash, both_kas())),
            Expected({{Check::kPolicyHashMismatch, kP}, {Check::kRootSignatureMismatch, kRoot}}));
  const Object root = tampered([](Json& j) {
    j["payload"]["integrity"]["rootSignature"]["sig"] =
        flip_bit(j["payload"]["integrity"]["rootSignature"]["sig"]);
  });
  EXPECT_EQ(findings(validate(root, both_kas())), Expected({{Check::kRootSignatureMismatch, kRoot}}));
}

TEST(Tamper, EveryBitOfEveryBinaryMemberMatters) {
  // Flip each bit position class (first/middle/last byte, low/high bit) of every base64 member.
  const std::vector<std::string> pointers = {
      "/payload/iv",
      "/payload/authTag",
      "/payload/ciphertext",
      "/payload/integrity/rootSignature/sig",
      "/keyAccessObjects/0/wrappedKey",
      "/keyAccessObjects/0/policyBinding/hash",
      "/keyAccessObjects/1/wrappedKey",
      "/keyAccessObjects/1/policyBinding/hash",
  };
  for (const std::string& ptr : pointers) {
    const size_t len = base64_decode(to_json(original())[Json::json_pointer(ptr)].get<std::string>())->size();
    for (size_t byte : {size_t{0}, len / 2, len - 1}) {
      for (int bit : {0, 7}) {
        const Object t = tampered([&](Json& j) {
          auto& v = j[Json::json_pointer(ptr)];
          v = flip_bit(v, byte, bit);
        });
        ValidationReport r = validate(t, both_kas());
        EXPECT_FALSE(r.ok()) << ptr << " byte " << byte << " bit " << bit;
      }
    }
  }
}

TEST(Tamper, NoKeyAvailableIsNotValid) {
  const KasKeyLookup none = [](const KeyAccessObject&) -> const PrivateKey* { return nullptr; };
  ValidationReport r = validate(original(), none);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.keyed);
  EXPECT_EQ(findings(r), Expected({{Check::kNoKeyAvailable, "/keyAccessObjects"}}));
  EXPECT_EQ(r.summary(), "no_key_available at /keyAccessObjects");
}
