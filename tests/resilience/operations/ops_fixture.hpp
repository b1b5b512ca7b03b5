#pragma once
// Operational faults of a deployed hub (issue 12), each under the load driver: one hub (test profile) is
// deployed once for the whole binary and shared by every scenario; each scenario starts from a healthy hub,
// restores what it changed, and leaves the hub healthy (checked after each one).
//
// A scenario: start_load() (a fresh LoadDriver sharing the suite's ApiClient, so that the users' one-time
// codes are used once), load->fault_begins(), inject, heal, load->fault_ends(), then finish(), which waits
// for the recovery within the scenario's bound, stops the load, asserts it clean (no leak, deadlines met,
// errors only as 503 with a reason and only in the fault window + bound) and the acknowledged writes kept,
// and prints "SCENARIO <name>: recovered in <ms> ms (bound <ms>)" for docs/RESILIENCE.md.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api_client.hpp"
#include "common/json.hpp"
#include "dive_cli.hpp"
#include "load_driver.hpp"
#include "servers.hpp"

namespace dive::testing::ops {

using Millis = std::chrono::milliseconds;

inline bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

// The hub every scenario shares (deployed by a global test environment, ops_fixture.cpp); null when its
// deployment failed.
DiveCli* hub_cli();
ApiClient* hub_api();

class Ops : public ::testing::Test {
 protected:
  void SetUp() override;     // skips without a hub; waits (bounded) until every service is healthy
  void TearDown() override;  // the scenario left the hub healthy (bounded wait), else a failure

  DiveCli& cli() { return *hub_cli(); }
  ApiClient& api() { return *hub_api(); }

  Json status();                      // hub status --json
  Json svc(const std::string& name);  // one service of it
  int port(const std::string& service) { return cli().port("USA", service); }
  Json api_health();    // GET /health of the api (null when not JSON)
  Json api_detailed();  // GET /health/detailed of the api
  bool all_healthy();   // every wanted child running and healthy
  bool wait_healthy(Millis bound);
  // The api's breaker of a dependency ("pdp", "kas"...): CLOSED, OPEN, HALF_OPEN ("" when unknown).
  std::string api_breaker(const std::string& dependency);

  // A prepared, started load whose answers are right (its baseline reached within 20 s).
  std::unique_ptr<LoadDriver> start_load(LoadOptions o = {});
  // After the fault healed (fault_ends() called, or no window at all): recovery within `bound`, the load
  // stopped and judged, writes verified; prints the SCENARIO line. Returns the recovery time.
  std::optional<Millis> finish(LoadDriver& load, const std::string& name, Millis bound,
                               bool allow_transport_errors = false);
  // Answers of the run that are not the table's (errors), and those without any answer (status 0).
  static size_t failures(const LoadDriver& load);
  static size_t transport_failures(const LoadDriver& load);

  // instance.json of the hub: read, and write (atomically) for a service's next start.
  fs::path instance_json();
  Json read_instance_json();
  void write_instance_json(const Json& cfg);
  // Asks the supervisor directly (the CLI's restart waits for a health that may not come).
  bool supervisor_command(const std::string& cmd, const std::string& service);
  // The same, with the supervisor's answer (a restart says whether it is graceful); null when none.
  Json supervisor_answer(const std::string& cmd, const std::string& service);
  // Metric value from a text exposition (first series that matches exactly), or nullopt.
  static std::optional<double> metric(const std::string& text, const std::string& series);
};

// A TLS (or plain TCP) client connection over a blocking socket with timeouts: the raw bytes a scenario
// needs to send (malformed requests, slow headers), and the status line of the answer.
class RawConn {
 public:
  // tls: handshake with the instance's CA (ctx from tls_client_ctx()); plain: TCP only.
  RawConn(int port, SSL_CTX* ctx, Millis timeout = Millis(5000));
  ~RawConn();
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;
  bool ok() const { return ok_; }
  bool send(const std::string& bytes);  // false when the peer closed or the write failed
  // Reads until the head of a response arrived (or EOF/timeout): its status, 0 when none.
  int read_status();
  std::string read_all();  // everything until the peer closes (or the timeout)
  bool closed_by_peer();   // non-blocking: the server answered (an error), closed or reset
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  bool ok_ = false;
};

// A client TLS context that verifies against `ca_file` (caller frees with SSL_CTX_free).
SSL_CTX* tls_client_ctx(const std::string& ca_file);

// Processes whose command line is exactly `<dive> serve <svc> --instance <code>` and whose DIVE_HOME is
// `home`: the copies of a service that run for this test's hub.
std::vector<pid_t> service_processes(const fs::path& home, const std::string& svc, const std::string& code);

}  // namespace dive::testing::ops
