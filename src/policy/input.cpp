#include "policy/input.hpp"

#include "policy/opa_format.hpp"

namespace dive::policy {
namespace schema {
namespace {

using S = Section;
// Indexed by F.
constexpr FieldSpec kSpecs[] = {
    {F::kAuthenticated, S::kSubject, "authenticated"},
    {F::kUniqueID, S::kSubject, "uniqueID"},
    {F::kClearance, S::kSubject, "clearance"},
    {F::kCountry, S::kSubject, "countryOfAffiliation"},
    {F::kAcpCOI, S::kSubject, "acpCOI"},
    {F::kClearanceOriginal, S::kSubject, "clearanceOriginal"},
    {F::kClearanceCountry, S::kSubject, "clearanceCountry"},
    {F::kOrganizationType, S::kSubject, "organizationType"},
    {F::kIssuer, S::kSubject, "issuer"},
    {F::kOperation, S::kAction, "operation"},
    {F::kResourceId, S::kResource, "resourceId"},
    {F::kClassification, S::kResource, "classification"},
    {F::kReleasabilityTo, S::kResource, "releasabilityTo"},
    {F::kCOI, S::kResource, "COI"},
    {F::kCoiOperator, S::kResource, "coiOperator"},
    {F::kCaveats, S::kResource, "caveats"},
    {F::kCreationDate, S::kResource, "creationDate"},
    {F::kEncrypted, S::kResource, "encrypted"},
    {F::kKasUrl, S::kResource, "kasUrl"},
    {F::kReleasableToIndustry, S::kResource, "releasableToIndustry"},
    {F::kOriginalClassification, S::kResource, "originalClassification"},
    {F::kOriginalCountry, S::kResource, "originalCountry"},
    {F::kIntegrityValidated, S::kZtdf, "integrityValidated"},
    {F::kPolicyHash, S::kZtdf, "policyHash"},
    {F::kPayloadHash, S::kZtdf, "payloadHash"},
    {F::kCurrentTime, S::kContext, "currentTime"},
    {F::kAcr, S::kContext, "acr"},
    {F::kAmr, S::kContext, "amr"},
    {F::kTenant, S::kContext, "tenant"},
    {F::kStrictCoiCoherence, S::kContext, "strict_coi_coherence"},
};
static_assert(std::size(kSpecs) == kFieldCount);

constexpr bool table_in_enum_order() {
  for (size_t i = 0; i < std::size(kSpecs); ++i)
    if (static_cast<size_t>(kSpecs[i].id) != i) return false;
  return true;
}
static_assert(table_in_enum_order());

void mark(Field& f, Field::Problem p) {
  f.kind = Kind::kInvalid;
  f.problem = p;
  f.str.clear();
  f.list.clear();
  f.mixed = false;
}

}  // namespace

const FieldSpec& spec(F id) {
  return kSpecs[static_cast<size_t>(id)];
}

Section section_for_key(std::string_view key) {
  if (key == "subject") return S::kSubject;
  if (key == "resource") return S::kResource;
  if (key == "context") return S::kContext;
  if (key == "action") return S::kAction;
  return S::kCount;
}

const FieldSpec* field_for_key(Section section, std::string_view key) {
  // The attributes of each section, so that a key is compared with a handful of names only.
  static const auto by_section = [] {
    std::array<std::vector<const FieldSpec*>, static_cast<size_t>(S::kCount)> index;
    for (const auto& s : kSpecs) index[static_cast<size_t>(s.section)].push_back(&s);
    return index;
  }();
  for (const FieldSpec* s : by_section[static_cast<size_t>(section)])
    if (s->key.size() == key.size() && s->key[0] == key[0] && s->key == key) return s;
  return nullptr;
}

std::string_view section_path(Section s) {
  switch (s) {
    case S::kSubject:
      return "input.subject";
    case S::kAction:
      return "input.action";
    case S::kResource:
      return "input.resource";
    case S::kContext:
      return "input.context";
    case S::kZtdf:
      return "input.resource.ztdf";
    case S::kCount:
      break;
  }
  return "input";
}

void set_literal(Field& f, Kind kind) {
  f.reset();
  f.kind = kind;
}

void set_string(Field& f, std::string&& value) {
  f.reset();
  f.kind = Kind::kString;
  f.str = std::move(value);
}

void set_number(Field& f, const Number& n) {
  f.reset();
  f.kind = Kind::kNumber;
  f.num = n;
}

void begin_array(Field& f) {
  f.reset();
  f.kind = Kind::kArray;
}

void push_string(Field& f, std::string&& value) {
  if (f.kind != Kind::kArray) return;
  if (f.list.size() >= kMaxArrayEntries) return mark(f, Field::Problem::kTooManyEntries);
  f.list.push_back(std::move(value));
}

Kind kind_of(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return Kind::kNull;
    case Json::value_t::boolean:
      return v.get<bool>() ? Kind::kTrue : Kind::kFalse;
    case Json::value_t::string:
      return Kind::kString;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return Kind::kNumber;
    case Json::value_t::array:
      return Kind::kArray;
    default:
      return Kind::kObject;
  }
}

void set_json(Field& f, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return set_literal(f, Kind::kNull);
    case Json::value_t::boolean:
      return set_literal(f, v.get<bool>() ? Kind::kTrue : Kind::kFalse);
    case Json::value_t::string:
      return set_string(f, std::string(v.get_ref<const std::string&>()));
    case Json::value_t::number_integer: {
      Number n;
      n.i = v.get<int64_t>();
      return set_number(f, n);
    }
    case Json::value_t::number_unsigned: {
      Number n;
      n.type = Number::Type::kUint;
      n.u = v.get<uint64_t>();
      return set_number(f, n);
    }
    case Json::value_t::number_float: {
      Number n;
      n.type = Number::Type::kFloat;
      n.f = v.get<double>();
      return set_number(f, n);
    }
    default:
      break;
  }
  f.reset();
  if (v.size() > kMaxArrayEntries) return mark(f, Field::Problem::kTooManyEntries);
  f.kind = v.is_array() ? Kind::kArray : Kind::kObject;
  bool all_strings = true;
  for (const auto& e : v) all_strings = all_strings && e.is_string();
  f.list.reserve(v.size());
  if (f.kind == Kind::kArray && all_strings) {  // the plain representation
    for (const auto& e : v) f.list.push_back(e.get_ref<const std::string&>());
    return;
  }
  f.mixed = true;
  f.str = v.dump();
  for (const auto& e : v) {  // array entries, or object values in key order
    f.list.push_back(e.is_string() ? Field::kStringEntry + e.get_ref<const std::string&>()
                                   : Field::kJsonEntry + e.dump());
  }
}

}  // namespace schema

Json Number::to_json() const {
  switch (type) {
    case Type::kInt:
      return Json(i);
    case Type::kUint:
      return Json(u);
    case Type::kFloat:
      return Json(f);
  }
  return Json(nullptr);
}

std::string Number::go_text() const {
  switch (type) {
    case Type::kInt:
      return std::to_string(i);
    case Type::kUint:
      return std::to_string(u);
    case Type::kFloat:
      return opa::go_float(f);
  }
  return {};
}

void Field::reset() {
  if (kind == Kind::kAbsent) return;  // nothing set since the last reset
  kind = Kind::kAbsent;
  problem = Problem::kNone;
  str.clear();
  list.clear();
  mixed = false;
  num = Number{};
}

void Input::reset() {
  for (auto& f : fields) f.reset();
  sections.fill(Kind::kAbsent);
}

void Input::reset_section(Section s) {
  static const auto members = [] {
    std::array<std::vector<size_t>, static_cast<size_t>(Section::kCount)> index;
    for (size_t i = 0; i < kFieldCount; ++i) {
      const Section owner = schema::spec(static_cast<F>(i)).section;
      index[static_cast<size_t>(owner)].push_back(i);
      if (owner == Section::kZtdf) index[static_cast<size_t>(Section::kResource)].push_back(i);
    }
    return index;
  }();
  for (size_t i : members[static_cast<size_t>(s)]) fields[i].reset();
  sections[static_cast<size_t>(s)] = Kind::kAbsent;
  if (s == Section::kResource) sections[static_cast<size_t>(Section::kZtdf)] = Kind::kAbsent;
}

void validate(const Input& in) {
  for (size_t i = 0; i < kFieldCount; ++i) {
    if (in.fields[i].kind != Kind::kInvalid) continue;
    const auto& s = schema::spec(static_cast<F>(i));
    throw InvalidInput(std::string(schema::section_path(s.section)) + "." + std::string(s.key) +
                       " has more than " + std::to_string(kMaxArrayEntries) + " entries");
  }
}

namespace {

void read_section(Input& in, Section section, const Json& obj) {
  in.sections[static_cast<size_t>(section)] = schema::kind_of(obj);
  if (!obj.is_object()) return;  // its attributes are undefined, as in Rego
  for (const auto& [key, value] : obj.items()) {
    if (section == Section::kResource && key == "ztdf") {
      read_section(in, Section::kZtdf, value);
      continue;
    }
    if (const auto* s = schema::field_for_key(section, key)) schema::set_json(in[s->id], value);
  }
}

}  // namespace

Input input_from_json(const Json& input) {
  if (!input.is_object()) throw InvalidInput("input must be an object");
  Input in;
  for (const auto& [key, value] : input.items()) {
    const Section s = schema::section_for_key(key);
    if (s != Section::kCount) read_section(in, s, value);
  }
  validate(in);
  return in;
}

}  // namespace dive::policy
