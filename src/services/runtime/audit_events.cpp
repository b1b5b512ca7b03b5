#include "services/runtime/audit_events.hpp"

#include "services/runtime/authenticator.hpp"

namespace dive::services {

audit::Event anonymous_event(const net::Request& req, std::string type) {
  audit::Event e;
  e.type = std::move(type);
  e.source_ip = req.remote_ip;
  e.request_id = req.request_id;
  return e;
}

audit::Event request_event(const net::Request& req, const identity::VerifiedToken& t, std::string type) {
  audit::Event e = anonymous_event(req, std::move(type));
  e.actor = revocation_subject(t);
  e.actor_issuer = t.issuer;
  return e;
}

bool has_role(const identity::VerifiedToken& t, std::string_view role) {
  auto it = t.claims.find("roles");
  if (it == t.claims.end() || !it->is_array()) return false;
  for (const auto& r : *it)
    if (r.is_string() && r.get_ref<const std::string&>() == role) return true;
  return false;
}

}  // namespace dive::services
