// Robustness: thousands of random mutations of a serialized object (deterministic seed). Whatever the input,
// reading either throws ztdf::FormatError or yields an object; validation never crashes; and an object that
// validates with the keys is exactly the original (no change goes unnoticed).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/random.hpp"
#include "ztdf/ztdf.hpp"
#include "ztdf_test_util.hpp"

using namespace dive;
using namespace dive::ztdf;
using namespace dive::ztdf::test;

namespace {

const char kInteresting[] = "\"{}[],:0123456789-+.eEtruefalsnl\\/ \t\nAZaz=";

std::string mutate_text(std::string s, SeededRandom& rng) {
  const int edits = static_cast<int>(rng.uniform(1, 4));
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const size_t pos = rng.uniform(0, s.size() - 1);
    switch (rng.uniform(0, 6)) {
      case 0:  // flip a bit
        s[pos] = static_cast<char>(s[pos] ^ (1 << rng.uniform(0, 7)));
        break;
      case 1:  // replace with a JSON-significant character
        s[pos] = kInteresting[rng.uniform(0, sizeof kInteresting - 2)];
        break;
      case 2:  // delete a range
        s.erase(pos, rng.uniform(1, 40));
        break;
      case 3:  // insert a character
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos),
                 kInteresting[rng.uniform(0, sizeof kInteresting - 2)]);
        break;
      case 4: {  // duplicate a range elsewhere
        std::string piece = s.substr(pos, rng.uniform(1, 60));
        s.insert(rng.uniform(0, s.size()), piece);
        break;
      }
      case 5:  // a random byte, maybe a NUL or invalid UTF-8
        s[pos] = static_cast<char>(rng.uniform(0, 255));
        break;
      default:  // swap two characters
        std::swap(s[pos], s[rng.uniform(0, s.size() - 1)]);
    }
  }
  return s;
}

// Collects pointers to every value in a JSON tree.
void collect(Json& j, std::vector<Json*>& out) {
  out.push_back(&j);
  if (j.is_object())
    for (auto& [k, v] : j.items()) collect(v, out);
  else if (j.is_array())
    for (auto& v : j) collect(v, out);
}

Json random_value(SeededRandom& rng, const Json& old) {
  switch (rng.uniform(0, 11)) {
    case 0:
      return nullptr;
    case 1:
      return rng.uniform(0, 1) == 1;
    case 2:
      return static_cast<int64_t>(rng.uniform(0, 1'000'000)) - 500'000;
    case 3:
      return 1e300 * static_cast<double>(rng.uniform(0, 3));
    case 4:
      return Json::array();
    case 5:
      return Json::object();
    case 6:
      return std::string(rng.uniform(0, 300), 'A');
    case 7:
      return "\xff\xfe";
    case 8:
      if (old.is_string() && !old.get<std::string>().empty()) {  // a one-character change of a string
        std::string s = old.get<std::string>();
        size_t i = rng.uniform(0, s.size() - 1);
        s[i] = kInteresting[rng.uniform(0, sizeof kInteresting - 2)];
        return s;
      }
      return "";
    case 9:
      if (old.is_number_unsigned()) return old.get<uint64_t>() + 1;
      return old;
    case 10:
      if (old.is_array()) {
        Json a = old;
        if (!a.empty()) a.push_back(a[0]);
        return a;
      }
      return old;
    default:
      return "x";
  }
}

// Returns whether the text parsed.
bool check_one(const std::string& text, const Object& original) {
  Object parsed;
  try {
    parsed = parse_object(text);
  } catch (const FormatError&) {
    return false;  // refused cleanly
  }
  ValidationReport structure = validate_structure(parsed);
  ValidationReport keyed = validate(parsed, both_kas());
  if (keyed.ok()) {
    EXPECT_TRUE(structure.ok());
    EXPECT_EQ(parsed, original) << "a changed object validated: " << text.substr(0, 200);
  }
  // The KAS path: any KAO either opens to the document's key or throws a ztdf::Error.
  for (const auto& kao : parsed.key_access) {
    const PrivateKey* pk = both_kas()(kao);
    if (!pk) continue;
    try {
      DataKey k = open_key_access(parsed.policy, kao, *pk);
      try {
        EXPECT_EQ(decrypt(parsed, k), sample_text());
      } catch (const IntegrityError&) {
      }
    } catch (const UnwrapError&) {
    } catch (const BindingError&) {
    }
  }
  return true;
}

}  // namespace

// The base is the golden object (fixed bytes), so that with the fixed seeds every run is the same run.
TEST(Fuzz, RandomTextMutationsNeverCrash) {
  const Object original = parse_object(golden_object_text());
  const std::string text = serialize(original);
  SeededRandom rng(20260121);
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string m = mutate_text(text, rng);
    bool ok = false;
    ASSERT_NO_FATAL_FAILURE(ok = check_one(m, original));
    parsed += ok ? 1 : 0;
  }
  std::printf("text mutations: %d of 3000 parsed\n", parsed);
  // Some mutations must survive parsing, or the test would exercise the parser only (331 at the time of
  // writing: the run is deterministic).
  EXPECT_GT(parsed, 100);
}

TEST(Fuzz, RandomValueMutationsNeverCrash) {
  const Object original = parse_object(golden_object_text());
  const Json json = to_json(original);
  SeededRandom rng(4774);
  int parsed = 0;
  for (int i = 0; i < 2000; ++i) {
    Json j = json;
    std::vector<Json*> values;
    collect(j, values);
    const int edits = static_cast<int>(rng.uniform(1, 2));
    for (int e = 0; e < edits; ++e) {
      Json* target = values[rng.uniform(1, values.size() - 1)];
      *target = random_value(rng, *target);
      values.clear();
      collect(j, values);
    }
    std::string text;
    try {
      text = j.dump();
    } catch (const Json::exception&) {
      continue;  // invalid UTF-8 cannot even be written by nlohmann; the text mutations cover raw bytes
    }
    bool ok = false;
    ASSERT_NO_FATAL_FAILURE(ok = check_one(text, original));
    parsed += ok ? 1 : 0;
  }
  std::printf("value mutations: %d of 2000 parsed\n", parsed);
  EXPECT_GT(parsed, 50);
}

TEST(Fuzz, GarbageInputs) {
  SeededRandom rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng.uniform(0, 200), '\0');
    for (char& c : s) c = kInteresting[rng.uniform(0, sizeof kInteresting - 2)];
    EXPECT_THROW(parse_object(s), FormatError);
    if (i % 10 == 0) {  // the OpenSSL decoder is slow to set up; a sample suffices
      try {
        PublicKey::from_client_key(Json(s));
      } catch (const KeyError&) {
      }
    }
  }
}
