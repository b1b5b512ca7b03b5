#pragma once
// Helpers shared by the store tests.
#include <gtest/gtest.h>
#include <signal.h>

#include <cctype>
#include <chrono>
#include <string>

#include "servers.hpp"

namespace dive::store::test {

// PostgreSQL's SIGTERM is a "smart" shutdown that waits for every client to leave (our pools never do):
// ask for a fast shutdown first (SIGINT), then let the harness wait for the process.
inline void fast_stop(dive::testing::TestPostgres& pg) {
  if (pg.pid() > 0) ::kill(pg.pid(), SIGINT);
  pg.stop();
}

// A database name derived from the running test (lower case, [a-z0-9_]).
inline std::string db_name_for_test() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string out = "t_";
  for (char c : std::string(info->test_suite_name()) + "_" + info->name())
    out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  return out.substr(0, 60);
}

// Milliseconds a call took (for the deliberate "fails fast" bounds).
template <class F>
long long elapsed_ms(F&& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace dive::store::test
