// ParsedObjects: parsed once per exact text, found by the text's SHA-256 (the hash the database keeps
// in resources.ztdf_sha256), a changed text parsed anew, an invalid one refused.
#include "access/parsed_objects.hpp"

#include <gtest/gtest.h>

#include "common/encoding.hpp"
#include "common/strings.hpp"
#include "ztdf/encrypt.hpp"
#include "ztdf/error.hpp"
#include "ztdf/serialize.hpp"

using namespace dive;
using namespace dive::access;

namespace {

std::string object_text(const std::string& id) {
  static ztdf::PrivateKey k = ztdf::PrivateKey::generate_rsa(2048);
  ztdf::SecurityLabel l;
  l.classification = ztdf::Classification::kConfidential;
  l.releasability_to = {"USA"};
  l.originating_country = "USA";
  ztdf::ObjectInfo info;
  info.object_id = id;
  return ztdf::serialize(
      ztdf::encrypt("text of " + id, l, {{"https://kas.test", "kas-1", k.public_key()}}, info));
}

}  // namespace

TEST(ParsedObjects, FoundByTheHashOfTheExactTextOnlyOnceParsed) {
  ParsedObjects cache;
  const std::string text = object_text("doc-USA-1");
  const std::string hash = sha256_hex(text);
  EXPECT_EQ(cache.find(hash), nullptr) << "nothing parsed yet";
  auto parsed = cache.get(text);
  ASSERT_NE(parsed, nullptr);
  EXPECT_EQ(parsed->object.manifest.object_id, "doc-USA-1");
  EXPECT_EQ(cache.find(hash), parsed) << "the same shared object";
  EXPECT_EQ(cache.get(text), parsed);
  EXPECT_EQ(hash, to_lower(hash)) << "lower-case hex, as PostgreSQL's encode(..., 'hex') writes it";

  // One byte more is another text: not found by the old hash's entry, parsed anew.
  const std::string changed = text + " ";
  EXPECT_EQ(cache.find(sha256_hex(changed)), nullptr);
  EXPECT_NE(cache.get(changed), parsed);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("not-a-hash"), nullptr);
}

TEST(ParsedObjects, AnInvalidTextIsRefusedAndNotCached) {
  ParsedObjects cache;
  EXPECT_THROW(cache.get("{\"not\":\"ztdf\"}"), ztdf::Error);
  EXPECT_EQ(cache.find(sha256_hex("{\"not\":\"ztdf\"}")), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}
