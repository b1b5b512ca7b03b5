#include "orchestrator/nuke.hpp"

#include "orchestrator/federation_ops.hpp"

#include <algorithm>

#include "common/strings.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/instance_control.hpp"
#include "orchestrator/monitoring_stack.hpp"
#include "orchestrator/orch_db.hpp"
#include "orchestrator/pidfile.hpp"
#include "orchestrator/pipeline.hpp"
#include "orchestrator/ports.hpp"

namespace dive::orch {

using namespace std::chrono_literals;

namespace {
void close_state(const Layout& layout, const std::string& code, const Console& out) {
  if (is_hub(code)) return;  // the hub's database goes with it
  try {
    OrchDb db(orchestration_conninfo(layout));
    // Through the state machine: COMPLETE -> CLEANUP -> UNKNOWN; FAILED -> ROLLING_BACK -> CLEANUP -> UNKNOWN
    // ...
    for (auto s : path_to(db.current_state(code), DeployState::Unknown))
      db.set_state(code, s, "nuke", Json::object(), "nuke");
    db.breaker_reset("deploy:" + code);
    out.info("orchestration state of " + code + " closed");
  } catch (const std::exception& e) {
    out.info(std::string("orchestration state not updated (hub database not reachable: ") + e.what() + ")");
  }
}
}  // namespace

bool nuke_instance(const Layout& layout, const std::string& code, const Console& out, bool leave_federation) {
  auto paths = layout.instance(code);
  if (!fs::exists(paths.dir)) {
    out.info(code + ": nothing to remove");
    return true;
  }
  out.step("nuking " + code);
  int n = stop_instance(paths, 30s);
  if (n > 0) out.info("stopped " + std::to_string(n) + " process(es)");
  auto left = live_records(paths.run);
  if (!left.empty()) {
    out.fail(code + ": " + std::to_string(left.size()) + " recorded process(es) still running (first: pid " +
             std::to_string(left.front().pid) + "); nothing deleted");
    return false;
  }
  close_state(layout, code, out);
  remove_instance_targets(layout, code);  // Prometheus stops scraping it (file-based discovery)
  std::error_code ec;
  fs::remove_all(paths.dir, ec);
  if (ec) {
    out.fail("cannot remove " + paths.dir.string() + ": " + ec.message());
    return false;
  }
  // A spoke of the hub's home leaves the federation registry (after its directory: the registry is rebuilt
  // from the spokes still deployed here).
  if (leave_federation)
    if (auto said = forget_local_spoke(layout, code); !said.empty()) out.info(said);
  out.ok(code + " removed");
  return true;
}

bool nuke_all(const Layout& layout, const Console& out) {
  auto codes = layout.deployed_codes();
  // Directories without instance.json (a deploy that failed early) are instances too.
  std::error_code ec;
  for (auto it = fs::directory_iterator(layout.instances_dir(), ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    auto c = to_upper(it->path().filename().string());
    if (std::find(codes.begin(), codes.end(), c) == codes.end()) codes.push_back(c);
  }
  // Spokes before the hub, so their state can still be closed in the hub's database.
  std::stable_partition(codes.begin(), codes.end(), [](const std::string& c) { return !is_hub(c); });
  bool ok = true;
  for (const auto& c : codes) ok = nuke_instance(layout, c, out, false) && ok;
  if (!ok) return false;
  // The monitoring stack of this home: stopped by its recorded pids, then removed with its data.
  const auto mon = layout.monitoring();
  if (fs::exists(mon.dir)) {
    int n = stop_instance(mon, 30s);
    if (!live_records(mon.run).empty()) {
      out.fail("monitoring: recorded processes still running; " + mon.dir.string() + " not deleted");
      return false;
    }
    fs::remove_all(mon.dir, ec);
    out.ok("monitoring removed" + (n > 0 ? " (stopped " + std::to_string(n) + " processes)" : std::string()));
  }
  fs::remove_all(layout.instances_dir(), ec);
  fs::remove_all(layout.ca_dir(), ec);
  fs::remove(layout.home, ec);  // only when empty: DIVE_HOME may hold things that are not ours
  out.ok("all instances and the CA removed");
  return true;
}

}  // namespace dive::orch
