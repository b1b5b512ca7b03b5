#include "orchestrator/console.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "common/mutex.hpp"

namespace dive::orch {

namespace {
// Held while a line is written: lines of threads never interleave.
Mutex& out_mutex() {
  static Mutex m;
  return m;
}
}  // namespace

Console::Console(std::string prefix, bool quiet) : prefix_(std::move(prefix)), quiet_(quiet) {}

Console Console::with_prefix(const std::string& prefix) const {
  return Console(prefix, quiet_);
}

bool Console::color() {
  static const bool c = ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
  return c;
}

void Console::emit(bool err, const char* col, const char* mark, const std::string& msg) const {
  MutexLock lock(out_mutex());
  FILE* f = err ? stderr : stdout;
  std::string pre = prefix_.empty() ? "" : "[" + prefix_ + "] ";
  if (color() && col)
    std::fprintf(f, "%s%s%s\033[0m %s\n", pre.c_str(), col, mark, msg.c_str());
  else
    std::fprintf(f, "%s%s %s\n", pre.c_str(), mark, msg.c_str());
  std::fflush(f);
}

void Console::step(const std::string& msg) const {
  if (!quiet_) emit(false, "\033[1;34m", "→", msg);
}
void Console::info(const std::string& msg) const {
  if (!quiet_) emit(false, nullptr, " ", msg);
}
void Console::ok(const std::string& msg) const {
  if (!quiet_) emit(false, "\033[32m", "✓", msg);
}
void Console::warn(const std::string& msg) const {
  emit(true, "\033[33m", "!", msg);
}
void Console::fail(const std::string& msg) const {
  emit(true, "\033[31m", "✗", msg);
}
void Console::plain(const std::string& msg) const {
  MutexLock lock(out_mutex());
  std::fprintf(stdout, "%s\n", msg.c_str());
  std::fflush(stdout);
}

}  // namespace dive::orch
