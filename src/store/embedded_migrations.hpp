#pragma once
// The SQL files under migrations/, compiled into the binary (generated at build time by
// cmake/GenerateMigrations.cmake, library target dive_migrations). Sorted by version.
#include <vector>

#include "store/migrations.hpp"

namespace dive::store {

const std::vector<Migration>& instance_migrations();       // migrations/instance/NNN_name.sql
const std::vector<Migration>& orchestration_migrations();  // migrations/orchestration/NNN_name.sql

}  // namespace dive::store
