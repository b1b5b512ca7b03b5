#include "identity/revocation_limits.hpp"

#include <stdexcept>
#include <string>

namespace dive::identity {

std::chrono::seconds user_retention_of(const Json& instance) {
  const Json r = instance.value("revocation", Json::object());
  auto it = r.find("user_retention_s");
  if (it == r.end()) return kDefaultUserRetention;
  if (!it->is_number_integer() || it->get<int64_t>() <= 0)
    throw std::runtime_error(
        "instance.json revocation.user_retention_s must be a positive integer (seconds), not " + it->dump());
  return std::chrono::seconds(it->get<int64_t>());
}

}  // namespace dive::identity
