#pragma once
// Drives the real `dive` binary for integration and resilience tests: a private $DIVE_HOME, a port shift
// where every port the test needs is free (so a federation someone is running is never disturbed), and
// cleanup that stops only what this test deployed (nuke by recorded pids).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/fs.hpp"
#include "common/json.hpp"
#include "common/process.hpp"

namespace dive::testing {

// A shift (multiple of 100, in 10000..20000) at which every port of `codes` (with their exporters), the
// blacklist and its exporter, and the monitoring stack's ports are free, and claimed by no other test binary:
// each port is claimed with an flock on /tmp/dive-test-ports/<port>, held through `claims` (descriptors,
// closed by the caller; the claims also end with the process). Without the claims, two binaries started
// together could pick shifts whose port sets overlap (one's pdp port is the other's exporter port) before
// either listens.
int choose_port_shift(const std::vector<std::string>& codes, std::vector<int>* claims = nullptr);
// Claims the ports of `codes` at `shift` as choose_port_shift does; false when one is busy or claimed.
bool claim_port_shift(const std::vector<std::string>& codes, int shift, std::vector<int>* claims);

class DiveCli {
 public:
  explicit DiveCli(const std::vector<std::string>& codes);  // temp home + free shift
  // A temp home at a given shift (a restore onto "another machine" that keeps the instance's ports): its
  // ports must be free and unclaimed by other test binaries; throws otherwise.
  DiveCli(const std::vector<std::string>& codes, int shift);
  ~DiveCli();  // nuke all --confirm (our processes only)
  DiveCli(const DiveCli&) = delete;
  DiveCli& operator=(const DiveCli&) = delete;

  RunResult run(const std::vector<std::string>& args,
                std::chrono::seconds timeout = std::chrono::seconds(300)) const;
  Json run_json(
      const std::vector<std::string>& args) const;  // run + parse stdout (fails the test if not JSON)
  const fs::path& home() const { return home_->path(); }
  int shift() const { return shift_; }
  int port(const std::string& code,
           const std::string& service) const;  // service: api, idp, pdp, kas, web, postgres, redis
  fs::path ca_file() const { return home() / "ca" / "rootCA.pem"; }
  Json instance_config(const std::string& code) const;
  // GET https://localhost:<port><path> verified against our CA: {status, body}.
  std::pair<int, std::string> https_get(int port, const std::string& path) const;
  Json service_status(const std::string& code, const std::string& name) const;  // from status --json
  static std::string binary();

 private:
  std::unique_ptr<TempDir> home_;
  std::vector<int> port_claims_;  // flocked descriptors, see choose_port_shift
  int shift_;
};

}  // namespace dive::testing
