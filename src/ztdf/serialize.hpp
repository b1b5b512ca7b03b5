#pragma once
// JSON reading and writing of ZTDF objects and their parts.
//
// Reading is strict: every member present with its type, no unknown member, no duplicate member name,
// base64 padded and canonical, hashes as lower-case hex of the right length, sizes within limits. A failure
// is a FormatError naming the member by JSON pointer ("/keyAccessObjects/1/wrappedKey"), never a crash.
// Reading checks form only; whether the parts still belong together is validate_structure()/validate()
// (ztdf/validate.hpp).
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "ztdf/object.hpp"

namespace dive::ztdf {

Json to_json(const Object& object);
Object object_from_json(const Json& j);
std::string serialize(const Object& object);  // compact JSON text
Object parse_object(std::string_view text);   // parse_strict + object_from_json

Json to_json(const Manifest& manifest);
Json to_json(const Policy& policy);
Json to_json(const Payload& payload);
Json to_json(const KeyAccessObject& kao);

// `path` is the JSON pointer of the part in a whole object, used in error messages.
Manifest manifest_from_json(const Json& j, const std::string& path = "/manifest");
Policy policy_from_json(const Json& j, const std::string& path = "/policy");
Payload payload_from_json(const Json& j, const std::string& path = "/payload");
KeyAccessObject kao_from_json(const Json& j, const std::string& path = "/keyAccessObjects/0");

// The KAS request carries {policy, kao} as JSON objects or as text; these parse either strictly.
Policy parse_policy(std::string_view text);
KeyAccessObject parse_kao(std::string_view text);

}  // namespace dive::ztdf
