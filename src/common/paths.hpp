#pragma once
// Where things live: the checkout (for reference data), $DIVE_HOME (all state), and the binary itself.
#include <filesystem>

namespace dive {

std::filesystem::path self_exe();  // /proc/self/exe
// The source checkout this binary was built from: DIVE_ROOT, else the first ancestor of the binary that
// holds both CMakeLists.txt and the `dive` launcher. Empty when neither is found.
std::filesystem::path checkout_root();
// DIVE_HOME, else <checkout>/.dive, else $HOME/.dive. Always absolute.
std::filesystem::path dive_home();
// Reference data (clearance tables, seed templates...): DIVE_DATA, else <checkout>/data.
std::filesystem::path data_dir();
// The monitoring stack's sources (rules, Alertmanager configuration, dashboards): DIVE_MONITORING_ASSETS,
// else <checkout>/monitoring.
std::filesystem::path monitoring_assets_dir();

}  // namespace dive
