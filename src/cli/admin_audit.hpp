#pragma once
// Administrative actions of the CLI in the instance's audit trail (docs/AUDIT.md): deploy, policy load,
// spoke approve/suspend/..., key rotations, user changes. Written by the CLI itself, synchronously, with
// the operator as the actor. A record that cannot be written (the instance's database is down) is a warning
// on stderr, never a silent loss; the action itself has happened either way.
#include <string>

#include "audit/event.hpp"

namespace dive::cli {

// The operator: "<user>@<host>" (the invoking user of sudo when run through it).
std::string operator_name();

// Appends `e` (actor, service "cli", source "local" and the time filled in when empty) to instance `code`'s
// trail. Returns false (after the warning) when it could not be written.
bool record_admin(const std::string& code, audit::Event e);

// An event of `type` about `resource` with its outcome and reason.
audit::Event admin_event(std::string type, std::string resource, bool ok, std::string reason,
                         std::string details = "{}");

}  // namespace dive::cli
