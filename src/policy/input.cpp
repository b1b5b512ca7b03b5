#include "policy/input.hpp"

#include "policy/opa_format.hpp"

namespace dive::policy {
namespace schema {
namespace {

constexpr uint8_t bit(Kind k) {
  return static_cast<uint8_t>(1u << static_cast<unsigned>(k));
}
constexpr uint8_t kStr = bit(Kind::kString);
constexpr uint8_t kBool = bit(Kind::kFalse) | bit(Kind::kTrue);
constexpr uint8_t kArr = bit(Kind::kArray);
constexpr uint8_t kNull = bit(Kind::kNull);
constexpr uint8_t kFalse = bit(Kind::kFalse);
constexpr uint8_t kNum = bit(Kind::kNumber);

using S = Section;
// Indexed by F. `false` is accepted where the original documents it as "missing" (required
// attributes), null where it documents null (equivalency attributes, releasabilityTo).
constexpr FieldSpec kSpecs[] = {
    {F::kAuthenticated, S::kSubject, "authenticated", kBool, "a boolean"},
    {F::kUniqueID, S::kSubject, "uniqueID", kStr | kFalse, "a string"},
    {F::kClearance, S::kSubject, "clearance", kStr | kFalse, "a string"},
    {F::kCountry, S::kSubject, "countryOfAffiliation", kStr | kFalse, "a string"},
    {F::kAcpCOI, S::kSubject, "acpCOI", kArr, "an array of strings"},
    {F::kClearanceOriginal, S::kSubject, "clearanceOriginal", kStr | kNull, "a string or null"},
    {F::kClearanceCountry, S::kSubject, "clearanceCountry", kStr | kNull, "a string or null"},
    {F::kOrganizationType, S::kSubject, "organizationType", kStr, "a string"},
    {F::kIssuer, S::kSubject, "issuer", kStr, "a string"},
    {F::kOperation, S::kAction, "operation", kStr, "a string"},
    {F::kResourceId, S::kResource, "resourceId", kStr, "a string"},
    {F::kClassification, S::kResource, "classification", kStr | kFalse, "a string"},
    {F::kReleasabilityTo, S::kResource, "releasabilityTo", kArr | kNull | kFalse, "an array of strings"},
    {F::kCOI, S::kResource, "COI", kArr, "an array of strings"},
    {F::kCoiOperator, S::kResource, "coiOperator", kStr, "\"ALL\" or \"ANY\""},
    {F::kCaveats, S::kResource, "caveats", kArr, "an array of strings"},
    {F::kCreationDate, S::kResource, "creationDate", kStr, "a string"},
    {F::kEncrypted, S::kResource, "encrypted", kBool, "a boolean"},
    {F::kKasUrl, S::kResource, "kasUrl", kStr, "a string"},
    {F::kReleasableToIndustry, S::kResource, "releasableToIndustry", kBool, "a boolean"},
    {F::kOriginalClassification, S::kResource, "originalClassification", kStr | kNull, "a string or null"},
    {F::kOriginalCountry, S::kResource, "originalCountry", kStr | kNull, "a string or null"},
    {F::kIntegrityValidated, S::kZtdf, "integrityValidated", kBool, "a boolean"},
    {F::kPolicyHash, S::kZtdf, "policyHash", kStr, "a string"},
    {F::kPayloadHash, S::kZtdf, "payloadHash", kStr, "a string"},
    {F::kCurrentTime, S::kContext, "currentTime", kStr, "a string"},
    {F::kAcr, S::kContext, "acr", kStr | kNum, "a string or a number"},
    {F::kAmr, S::kContext, "amr", kArr | kStr, "an array of strings or a string"},
    {F::kTenant, S::kContext, "tenant", kStr, "a string"},
    {F::kStrictCoiCoherence, S::kContext, "strict_coi_coherence", kBool, "a boolean"},
};
static_assert(std::size(kSpecs) == kFieldCount);

constexpr bool table_in_enum_order() {
  for (size_t i = 0; i < std::size(kSpecs); ++i)
    if (static_cast<size_t>(kSpecs[i].id) != i) return false;
  return true;
}
static_assert(table_in_enum_order());

bool accepts(const FieldSpec& s, Kind k) {
  return (s.accepts & bit(k)) != 0;
}

void mark(Field& f, Field::Problem p) {
  f.kind = Kind::kInvalid;
  f.problem = p;
  f.str.clear();
  f.list.clear();
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

void set_literal(Field& f, const FieldSpec& s, Kind kind) {
  f.reset();
  if (!accepts(s, kind)) return mark(f, Field::Problem::kType);
  f.kind = kind;
}

void set_string(Field& f, const FieldSpec& s, std::string&& value) {
  f.reset();
  if (!accepts(s, Kind::kString)) return mark(f, Field::Problem::kType);
  if (value.size() > kMaxStringBytes) return mark(f, Field::Problem::kStringTooLong);
  f.kind = Kind::kString;
  f.str = std::move(value);
}

void set_number(Field& f, const FieldSpec& s, const Number& n) {
  f.reset();
  if (!accepts(s, Kind::kNumber)) return mark(f, Field::Problem::kType);
  f.kind = Kind::kNumber;
  f.num = n;
}

void set_object(Field& f, const FieldSpec&) {
  f.reset();
  mark(f, Field::Problem::kType);
}

void begin_array(Field& f, const FieldSpec& s) {
  f.reset();
  if (!accepts(s, Kind::kArray)) return mark(f, Field::Problem::kType);
  f.kind = Kind::kArray;
}

void push_string(Field& f, std::string&& value) {
  if (f.kind != Kind::kArray) return;
  if (f.list.size() >= kMaxArrayEntries) return mark(f, Field::Problem::kTooManyEntries);
  if (value.size() > kMaxStringBytes) return mark(f, Field::Problem::kStringTooLong);
  f.list.push_back(std::move(value));
}

void push_other(Field& f) {
  if (f.kind == Kind::kArray) mark(f, Field::Problem::kType);
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
  for (Section s : {Section::kSubject, Section::kResource}) {
    if (in.section(s) == Kind::kAbsent)
      throw InvalidInput(std::string(schema::section_path(s)) + " is missing");
  }
  for (size_t i = 0; i < static_cast<size_t>(Section::kCount); ++i) {
    if (in.sections[i] == Kind::kInvalid)
      throw InvalidInput(std::string(schema::section_path(static_cast<Section>(i))) + " must be an object");
  }
  for (size_t i = 0; i < kFieldCount; ++i) {
    const Field& f = in.fields[i];
    if (f.kind != Kind::kInvalid) continue;
    const auto& s = schema::spec(static_cast<F>(i));
    std::string path = std::string(schema::section_path(s.section)) + "." + std::string(s.key);
    switch (f.problem) {
      case Field::Problem::kStringTooLong:
        throw InvalidInput(path + " is longer than " + std::to_string(kMaxStringBytes) + " bytes");
      case Field::Problem::kTooManyEntries:
        throw InvalidInput(path + " has more than " + std::to_string(kMaxArrayEntries) + " entries");
      default:
        throw InvalidInput(path + " must be " + std::string(s.expect));
    }
  }
  const Field& op = in[F::kCoiOperator];
  if (op.is_string() && op.str != "ALL" && op.str != "ANY")
    throw InvalidInput("input.resource.coiOperator must be " +
                       std::string(schema::spec(F::kCoiOperator).expect));
}

namespace {

void assign(Field& f, const schema::FieldSpec& s, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return schema::set_literal(f, s, Kind::kNull);
    case Json::value_t::boolean:
      return schema::set_literal(f, s, v.get<bool>() ? Kind::kTrue : Kind::kFalse);
    case Json::value_t::string:
      return schema::set_string(f, s, std::string(v.get_ref<const std::string&>()));
    case Json::value_t::number_integer: {
      Number n;
      n.i = v.get<int64_t>();
      return schema::set_number(f, s, n);
    }
    case Json::value_t::number_unsigned: {
      Number n;
      n.type = Number::Type::kUint;
      n.u = v.get<uint64_t>();
      return schema::set_number(f, s, n);
    }
    case Json::value_t::number_float: {
      Number n;
      n.type = Number::Type::kFloat;
      n.f = v.get<double>();
      return schema::set_number(f, s, n);
    }
    case Json::value_t::array:
      schema::begin_array(f, s);
      for (const auto& e : v) {
        if (f.kind != Kind::kArray) break;
        if (e.is_string())
          schema::push_string(f, std::string(e.get_ref<const std::string&>()));
        else
          schema::push_other(f);
      }
      return;
    default:
      return schema::set_object(f, s);
  }
}

void read_section(Input& in, Section section, const Json& obj) {
  if (!obj.is_object()) {
    in.sections[static_cast<size_t>(section)] = Kind::kInvalid;
    return;
  }
  in.sections[static_cast<size_t>(section)] = Kind::kTrue;
  for (const auto& [key, value] : obj.items()) {
    if (section == Section::kResource && key == "ztdf") {
      read_section(in, Section::kZtdf, value);
      continue;
    }
    if (const auto* s = schema::field_for_key(section, key)) assign(in[s->id], *s, value);
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
