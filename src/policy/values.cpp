#include "policy/values.hpp"

#include <algorithm>

#include "policy/coi.hpp"
#include "policy/opa_format.hpp"

namespace dive::policy::rego {
namespace {

Number number_of(const Json& v) {
  Number n;
  if (v.is_number_unsigned()) {
    n.type = Number::Type::kUint;
    n.u = v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    n.i = v.get<int64_t>();
  } else {
    n.type = Number::Type::kFloat;
    n.f = v.get<double>();
  }
  return n;
}

std::string number_arg(const Number& num, char verb) {
  // OPA passes numbers to Go's fmt as int, *big.Int or float64.
  const bool fits_int = num.type == Number::Type::kInt ||
                        (num.type == Number::Type::kUint && num.u <= static_cast<uint64_t>(INT64_MAX));
  if (verb == 'v' || (verb == 'd' && num.type != Number::Type::kFloat)) return num.go_text();
  const char* type = num.type == Number::Type::kFloat ? "float64" : fits_int ? "int" : "*big.Int";
  return std::string("%!") + verb + "(" + type + "=" + num.go_text() + ")";
}

// The entries of a collection that are not strings, as Json values (the rare path).
std::vector<Json> json_entries(const Field& f) {
  std::vector<Json> out;
  for (size_t i = 0; i < f.list.size(); ++i)
    if (!f.string_entry(i)) out.push_back(Json::parse(f.entry(i)));
  return out;
}

std::vector<std::string> string_entries(const Field& f) {
  std::vector<std::string> out;
  for (size_t i = 0; i < f.list.size(); ++i)
    if (f.string_entry(i)) out.emplace_back(f.entry(i));
  return out;
}

bool contains_json(const std::vector<Json>& hay, const Json& v) {
  return std::any_of(hay.begin(), hay.end(), [&](const Json& h) { return compare(h, v) == 0; });
}

// The entries that are not strings, sorted in Rego's order for binary search (a mixed collection may
// have up to 1,000 entries on each side).
std::vector<Json> sorted_json_entries(const Field& f) {
  std::vector<Json> out = json_entries(f);
  std::sort(out.begin(), out.end(), [](const Json& x, const Json& y) { return compare(x, y) < 0; });
  return out;
}

bool in_sorted(const std::vector<Json>& hay, const Json& v) {
  return std::binary_search(hay.begin(), hay.end(), v,
                            [](const Json& x, const Json& y) { return compare(x, y) < 0; });
}

int rank(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return 0;
    case Json::value_t::boolean:
      return 1;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return 2;
    case Json::value_t::string:
      return 3;
    case Json::value_t::array:
      return 6;
    default:
      return 7;  // object
  }
}

int compare_numbers(const Json& a, const Json& b) {
  if (!a.is_number_float() && !b.is_number_float()) {
    // Exact integers: either side may be signed or unsigned.
    const bool a_neg = a.is_number_integer() && !a.is_number_unsigned() && a.get<int64_t>() < 0;
    const bool b_neg = b.is_number_integer() && !b.is_number_unsigned() && b.get<int64_t>() < 0;
    if (a_neg != b_neg) return a_neg ? -1 : 1;
    if (a_neg) {
      const int64_t x = a.get<int64_t>(), y = b.get<int64_t>();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    const uint64_t x = a.get<uint64_t>(), y = b.get<uint64_t>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const long double x = a.get<double>(), y = b.get<double>();
  return x < y ? -1 : x > y ? 1 : 0;
}

}  // namespace

const Field& empty_array() {
  static const Field f = [] {
    Field e;
    e.kind = Kind::kArray;
    return e;
  }();
  return f;
}

size_t rune_count(std::string_view s) {
  // The bytes that start a character.
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool member_of_mixed(std::string_view s, const Field& c) {
  for (size_t i = 0; i < c.list.size(); ++i)
    if (c.string_entry(i) && c.entry(i) == s) return true;
  return false;
}

bool member_other(const Field& x, const Field& c) {
  if (!x.defined() || !c.is_collection() || !c.mixed) return false;
  return contains_json(json_entries(c), to_json(x));
}

std::optional<bool> first_equals(const Field& f, std::string_view s) {
  if (f.kind != Kind::kArray || f.list.empty()) return std::nullopt;
  return f.string_entry(0) && f.entry(0) == s;
}

bool all_in(const Field& need, const Field& have) {
  if (!need.is_collection()) return true;  // no entries to find
  static const std::vector<std::string> kNone;
  const auto& have_list = have.is_collection() ? have.list : kNone;
  if (!need.mixed && !have.mixed) return coi::all_in(need.list, have_list);
  // Mixed entries (the rare path): strings against strings, other values against other values.
  const Field& h = have.is_collection() ? have : empty_array();
  if (!coi::all_in(string_entries(need), string_entries(h))) return false;
  const std::vector<Json> have_json = sorted_json_entries(h);
  for (const Json& v : json_entries(need))
    if (!in_sorted(have_json, v)) return false;
  return true;
}

bool intersects(const Field& a, const Field& b) {
  if (!a.is_collection() || !b.is_collection()) return false;
  if (!a.mixed && !b.mixed) return coi::intersects(a.list, b.list);
  if (coi::intersects(string_entries(a), string_entries(b))) return true;
  const std::vector<Json> b_json = sorted_json_entries(b);
  for (const Json& v : json_entries(a))
    if (in_sorted(b_json, v)) return true;
  return false;
}

Json to_json(const Field& f) {
  switch (f.kind) {
    case Kind::kString:
      return Json(f.str);
    case Kind::kNull:
      return Json(nullptr);
    case Kind::kFalse:
      return Json(false);
    case Kind::kTrue:
      return Json(true);
    case Kind::kNumber:
      return f.num.to_json();
    case Kind::kArray:
      if (!f.mixed) return Json(f.list);
      return Json::parse(f.str);
    case Kind::kObject:
      return Json::parse(f.str);
    default:
      return Json(nullptr);
  }
}

Json entry_json(const Field& f, size_t i) {
  return f.string_entry(i) ? Json(std::string(f.entry(i))) : Json::parse(f.entry(i));
}

std::string sprintf_arg(const Json& v, char verb) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return number_arg(number_of(v), verb);
  return text(v);
}

std::string sprintf_arg(const Field& f, char verb) {
  switch (f.kind) {
    case Kind::kString:
      return f.str;
    case Kind::kNull:
      return "null";
    case Kind::kFalse:
      return "false";
    case Kind::kTrue:
      return "true";
    case Kind::kNumber:
      return number_arg(f.num, verb);
    case Kind::kArray:
      if (!f.mixed) return opa::array(f.list);
      return text(to_json(f));
    case Kind::kObject:
      return text(to_json(f));
    default:
      return {};
  }
}

std::string entry_sprintf_arg(const Field& f, size_t i, char verb) {
  return f.string_entry(i) ? std::string(f.entry(i)) : sprintf_arg(Json::parse(f.entry(i)), verb);
}

std::string text(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string:
      return opa::quoted(v.get_ref<const std::string&>());
    case Json::value_t::array: {
      std::string out = "[";
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ", ";
        first = false;
        out += text(e);
      }
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, e] : v.items()) {  // nlohmann keeps keys sorted, as Rego prints them
        if (!first) out += ", ";
        first = false;
        opa::append_quoted(out, k);
        out += ": ";
        out += text(e);
      }
      return out + "}";
    }
    default:
      return v.dump();  // null, true, false, numbers
  }
}

int compare(const Json& a, const Json& b) {
  const int ra = rank(a), rb = rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return a.get<bool>() == b.get<bool>() ? 0 : a.get<bool>() ? 1 : -1;
    case 2:
      return compare_numbers(a, b);
    case 3: {
      const int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case 6: {
      const size_t n = std::min(a.size(), b.size());
      for (size_t i = 0; i < n; ++i)
        if (const int c = compare(a[i], b[i]); c != 0) return c;
      return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
    }
    default: {
      // Objects: key by key in sorted order (key, then value), then the number of keys.
      auto ia = a.begin(), ib = b.begin();
      for (; ia != a.end() && ib != b.end(); ++ia, ++ib) {
        if (const int c = ia.key().compare(ib.key()); c != 0) return c < 0 ? -1 : 1;
        if (const int c = compare(ia.value(), ib.value()); c != 0) return c;
      }
      return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
    }
  }
}

std::string set_text(std::vector<Json> items) {
  if (items.empty()) return "set()";
  std::sort(items.begin(), items.end(), [](const Json& x, const Json& y) { return compare(x, y) < 0; });
  items.erase(std::unique(items.begin(), items.end(),
                          [](const Json& x, const Json& y) { return compare(x, y) == 0; }),
              items.end());
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += text(items[i]);
  }
  return out + "}";
}

}  // namespace dive::policy::rego
