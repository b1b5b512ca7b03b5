#include "identity/idp/json_strings.hpp"

#include "common/json.hpp"

namespace dive::identity::idp {

std::vector<std::string> json_strings(const std::string& text) {
  std::vector<std::string> out;
  Json j = Json::parse(text, nullptr, false);
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace dive::identity::idp
