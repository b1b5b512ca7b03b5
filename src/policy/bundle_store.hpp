#pragma once
// Policy data bundles in an instance's database (migration 002): every revision kept, one active.
// Also the bundle of a deployment: the built-in tables plus the trusted issuers of the deployed instances.
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace dive::policy {

struct StoredBundle {
  std::string revision;
  std::string source;
  Json content;
};

// The active bundle, or nullopt when none was ever activated.
std::optional<StoredBundle> load_active_bundle(pqxx::connection& c);
// The active revision only (cheap; what the pdp polls). "" when none.
std::string active_bundle_revision(pqxx::connection& c);
// Validates `content` (throws BundleError naming the problem; nothing is stored then), stores it under its
// revision (idempotent) and, when `activate`, makes it the active one. Returns the revision.
std::string store_bundle(pqxx::connection& c, const Json& content, const std::string& source, bool activate);

struct TrustedInstance {
  std::string code;    // USA
  std::string name;    // United States
  std::string issuer;  // https://localhost:8443/realms/dive-v3-broker-usa
};
// The data bundle of a deployment: trusted issuers = the deployed instances (tenant = code); every other
// table falls back to the built-in defaults.
Json deployment_bundle(const std::vector<TrustedInstance>& instances);

}  // namespace dive::policy
