#include "cli/admin_audit.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <pqxx/pqxx>

#include "audit/pg_store.hpp"
#include "cli/context.hpp"
#include "common/clock.hpp"

namespace dive::cli {

std::string operator_name() {
  std::string user;
  const char* sudo = std::getenv("SUDO_USER");
  if (::geteuid() == 0 && sudo && *sudo) user = sudo;
  if (user.empty())
    if (const passwd* pw = ::getpwuid(::geteuid())) user = pw->pw_name;
  if (user.empty())
    if (const char* u = std::getenv("USER")) user = u;
  if (user.empty()) user = "uid" + std::to_string(::geteuid());
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  return user + "@" + host;
}

audit::Event admin_event(std::string type, std::string resource, bool ok, std::string reason,
                         std::string details) {
  audit::Event e;
  e.type = std::move(type);
  e.resource = std::move(resource);
  e.outcome = ok ? audit::kSuccess : audit::kFailure;
  e.reason = std::move(reason);
  e.details = std::move(details);
  return e;
}

bool record_admin(const std::string& code, audit::Event e) {
  if (e.actor.empty()) e.actor = operator_name();
  if (e.service.empty()) e.service = "cli";
  if (e.source_ip.empty()) e.source_ip = "local";
  if (e.at_ms == 0) e.at_ms = Clock::system().unix_millis();
  audit::sanitize(e);
  try {
    auto paths = ctx().layout.instance(code);
    if (!std::filesystem::exists(paths.instance_json))
      throw std::runtime_error(code + " is not deployed here");
    pqxx::connection conn(orch::instance_db_conninfo(paths));
    pqxx::nontransaction tx(conn);
    audit::append(tx, {e});
    return true;
  } catch (const std::exception& err) {
    std::fprintf(stderr, "warning: the audit record of %s on %s was not written: %s\n", e.type.c_str(),
                 code.c_str(), err.what());
    return false;
  }
}

}  // namespace dive::cli
