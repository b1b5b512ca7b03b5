#pragma once
// The unprivileged accounts an instance's processes run as when DIVE is started as root (docs/SECURITY.md).
// scripts/bootstrap creates them: dive-api, dive-idp, dive-pdp, dive-kas and dive-web (one per C++ service,
// so that none can read another's secrets: the api cannot read the kas's key-encryption key), and dive for
// the data stores' Redis and the exporters, all in group dive. PostgreSQL keeps its own "postgres" account.
// Started by an ordinary user, every process runs as that user and nothing here applies.
#include <sys/types.h>

#include <optional>
#include <string>

#include "common/json.hpp"
#include "orchestrator/layout.hpp"

namespace dive::orch {

struct RunAsUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// nullopt when this process is not root. As root: the account for `child` (api, idp, pdp, kas, web ->
// dive-<name>; any other -> dive). Throws std::runtime_error naming the missing account and
// scripts/bootstrap.
std::optional<RunAsUser> service_account(const std::string& child);

// As root, before the supervisor starts an instance's children: gives the accounts exactly what they need.
//   the home, instances/ and the instance directory: traversable (o+x), not listable
//   certs/key.pem: root:dive 0640 (every service serves TLS with it)
//   secrets/: root:dive 0710; secrets/<service>.json: dive-<service> 0600 (only its own part)
//   state/: root:dive 01770, each service writes its own files there (0600): revocation mirror copies, the
//           pdp's bundle cache
//   federation/: dive-api (the api applies and, on the hub, signs the trust bundle)
//   the Redis data directories: dive
// A no-op when not root.
void prepare_instance_for_accounts(const InstancePaths& paths, const Json& secrets);

}  // namespace dive::orch
