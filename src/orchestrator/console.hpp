#pragma once
// Progress output for people: one line per event, an optional prefix (the instance code when several
// deploy at once), colour only on a terminal. Thread-safe: parallel deployments share the terminal; one
// process-wide mutex keeps each line whole (it guards stdout and stderr, not members).
#include <string>

namespace dive::orch {

class Console {
 public:
  explicit Console(std::string prefix = "", bool quiet = false);
  Console with_prefix(const std::string& prefix) const;
  void step(const std::string& msg) const;   // → a pipeline step begins
  void info(const std::string& msg) const;   //   detail
  void ok(const std::string& msg) const;     // ✓
  void warn(const std::string& msg) const;   // ! (stderr)
  void fail(const std::string& msg) const;   // ✗ (stderr)
  void plain(const std::string& msg) const;  // as is, no prefix
  static bool color();

 private:
  void emit(bool err, const char* color, const char* mark, const std::string& msg) const;
  std::string prefix_;
  bool quiet_;
};

}  // namespace dive::orch
