#pragma once
// What binary this is: the project version (CMakeLists.txt) and the git revision it was built from
// (`git describe --always --dirty`, "unknown" outside a checkout). Written at build time by
// cmake/BuildInfo.cmake; exported as dive_v3_build_info{version,revision}.
namespace dive {
const char* build_version();
const char* build_revision();
}  // namespace dive
