#pragma once
// Removing instances: stop every process this tool recorded (by pid, never by name), then delete the
// instance's state. `nuke all` also removes the CA; DIVE_HOME itself goes only when nothing else is in it.
#include <string>
#include <vector>

#include "orchestrator/console.hpp"
#include "orchestrator/layout.hpp"

namespace dive::orch {

// Stops and removes one instance. For a spoke, its orchestration state is closed (-> UNKNOWN) in the
// hub's database when that is reachable. Returns false when a recorded process could not be stopped
// (then nothing is deleted).
// `leave_federation`: a spoke of the hub's home is removed from the federation registry too (nuke all skips
// it: the hub goes as well).
bool nuke_instance(const Layout& layout, const std::string& code, const Console& out,
                   bool leave_federation = true);
// Every instance (spokes first, the hub last), then the CA.
bool nuke_all(const Layout& layout, const Console& out);

}  // namespace dive::orch
