#include "ztdf/label.hpp"

#include <algorithm>
#include <set>

#include "ztdf/canonical_json.hpp"
#include "ztdf/error.hpp"
#include "ztdf/marking.hpp"
#include "ztdf/strict_json.hpp"

namespace dive::ztdf {

namespace {

constexpr std::string_view kClassificationNames[] = {"UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET",
                                                     "TOP_SECRET"};

bool is_alpha3(std::string_view s) {
  return s.size() == 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool is_token(std::string_view s) {
  return !s.empty() && s.size() <= kMaxTokenBytes && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

void check_list(const std::vector<std::string>& items, const std::string& path, size_t max_items,
                bool (*valid)(std::string_view), const char* what) {
  if (items.size() > max_items) throw FormatError(path, "more than " + std::to_string(max_items) + " items");
  std::set<std::string_view> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string item_path = path + "/" + std::to_string(i);
    if (!valid(items[i])) throw FormatError(item_path, std::string("expected ") + what);
    if (!seen.insert(items[i]).second) throw FormatError(item_path, "duplicate entry");
  }
}

bool digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return false;
  for (size_t i = pos; i < pos + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

int number(std::string_view s, size_t pos, size_t n) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

}  // namespace

std::string_view to_string(Classification c) noexcept {
  return kClassificationNames[static_cast<size_t>(c)];
}

std::optional<Classification> parse_classification(std::string_view name) noexcept {
  for (size_t i = 0; i < std::size(kClassificationNames); ++i)
    if (kClassificationNames[i] == name) return static_cast<Classification>(i);
  if (name == "TOP SECRET") return Classification::kTopSecret;
  return std::nullopt;
}

std::string_view to_string(CoiOperator op) noexcept {
  return op == CoiOperator::kAny ? "ANY" : "ALL";
}

bool is_rfc3339(std::string_view s) noexcept {
  // YYYY-MM-DDTHH:MM:SS
  if (!digits(s, 0, 4) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2) || s[10] != 'T' || !digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) ||
      s[16] != ':' || !digits(s, 17, 2))
    return false;
  int month = number(s, 5, 2), day = number(s, 8, 2), hour = number(s, 11, 2), minute = number(s, 14, 2),
      second = number(s, 17, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
  size_t pos = 19;
  if (s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start || pos - start > 9) return false;
  }
  if (pos < s.size() && s[pos] == 'Z') return pos + 1 == s.size();
  if (pos + 6 != s.size() || (s[pos] != '+' && s[pos] != '-') || !digits(s, pos + 1, 2) ||
      s[pos + 3] != ':' || !digits(s, pos + 4, 2))
    return false;
  return number(s, pos + 1, 2) <= 23 && number(s, pos + 4, 2) <= 59;
}

void validate_label_attributes(const SecurityLabel& label, const std::string& path) {
  if (static_cast<size_t>(label.classification) >= std::size(kClassificationNames))
    throw FormatError(path + "/classification", "unknown classification");
  if (label.releasability_to.empty()) throw FormatError(path + "/releasabilityTo", "must not be empty");
  check_list(label.releasability_to, path + "/releasabilityTo", kMaxCountries, is_alpha3,
             "an ISO 3166 alpha-3 code (three upper-case letters)");
  check_list(label.coi, path + "/COI", kMaxCois, is_token, "a COI name of [A-Za-z0-9_-], 1 to 64 bytes");
  check_list(label.caveats, path + "/caveats", kMaxCaveats, is_token,
             "a caveat of [A-Za-z0-9_-], 1 to 64 bytes");
  if (label.coi_operator != CoiOperator::kAll && label.coi_operator != CoiOperator::kAny)
    throw FormatError(path + "/coiOperator", "expected \"ALL\" or \"ANY\"");
  if (!is_alpha3(label.originating_country))
    throw FormatError(path + "/originatingCountry", "expected an ISO 3166 alpha-3 code");
  if (!is_rfc3339(label.creation_date))
    throw FormatError(path + "/creationDate", "expected an RFC 3339 date-time");
  if (label.display_marking.empty() || label.display_marking.size() > 4096 ||
      !valid_utf8(label.display_marking))
    throw FormatError(path + "/displayMarking", "expected a marking of 1 to 4096 bytes of UTF-8");
  if (label.original_classification) {
    const std::string& o = *label.original_classification;
    bool ok = !o.empty() && o.size() <= kMaxTokenBytes && valid_utf8(o) &&
              std::none_of(o.begin(), o.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    if (!ok)
      throw FormatError(path + "/originalClassification", "expected 1 to 64 bytes of UTF-8 without controls");
  }
}

void validate_label(const SecurityLabel& label, const std::string& path) {
  validate_label_attributes(label, path);
  if (!marking_matches(label))
    throw FormatError(path + "/displayMarking", "does not match the label's attributes");
}

Json label_to_json(const SecurityLabel& label) {
  Json j = Json::object();
  j["classification"] = to_string(label.classification);
  j["releasabilityTo"] = label.releasability_to;
  j["COI"] = label.coi;
  j["coiOperator"] = to_string(label.coi_operator);
  j["caveats"] = label.caveats;
  j["originatingCountry"] = label.originating_country;
  j["creationDate"] = label.creation_date;
  j["releasableToIndustry"] = label.releasable_to_industry;
  j["displayMarking"] = label.display_marking;
  if (label.original_classification) j["originalClassification"] = *label.original_classification;
  return j;
}

SecurityLabel label_from_json(const Json& j, const std::string& path) {
  detail::ObjectReader r(j, path);
  SecurityLabel label;
  const std::string cls_name = r.string("classification");
  auto cls = parse_classification(cls_name);
  if (!cls || to_string(*cls) != cls_name)  // canonical spelling only ("TOP_SECRET", not "TOP SECRET")
    throw FormatError(r.member_path("classification"), "unknown classification");
  label.classification = *cls;
  label.releasability_to = r.string_array("releasabilityTo", kMaxCountries);
  label.coi = r.string_array("COI", kMaxCois);
  std::string op = r.string("coiOperator");
  if (op == "ALL")
    label.coi_operator = CoiOperator::kAll;
  else if (op == "ANY")
    label.coi_operator = CoiOperator::kAny;
  else
    throw FormatError(r.member_path("coiOperator"), "expected \"ALL\" or \"ANY\"");
  label.caveats = r.string_array("caveats", kMaxCaveats);
  label.originating_country = r.string("originatingCountry");
  label.creation_date = r.string("creationDate");
  label.releasable_to_industry = r.boolean("releasableToIndustry");
  label.display_marking = r.string("displayMarking");
  label.original_classification = r.optional_string("originalClassification");
  r.finish();
  validate_label_attributes(label, path);
  return label;
}

}  // namespace dive::ztdf
