#include "dive_cli.hpp"

#include <cstdlib>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/https_client.hpp"
#include "orchestrator/port_probe.hpp"
#include "orchestrator/ports.hpp"

namespace dive::testing {

std::string DiveCli::binary() {
  return DIVE_BINARY;
}

namespace {
// Claims every port (non-blocking flocks); on any failure releases what it took and returns false.
bool claim_ports(const std::vector<int>& ports, std::vector<int>* fds) {
  std::error_code ec;
  fs::create_directories("/tmp/dive-test-ports", ec);
  ::chmod("/tmp/dive-test-ports", 01777);
  std::vector<int> taken;
  for (int port : ports) {
    int fd =
        ::open(("/tmp/dive-test-ports/" + std::to_string(port)).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      taken.push_back(fd);
      continue;
    }
    if (fd >= 0) ::close(fd);
    for (int t : taken) ::close(t);
    return false;
  }
  fds->insert(fds->end(), taken.begin(), taken.end());
  return true;
}
}  // namespace

bool claim_port_shift(const std::vector<std::string>& codes, int s, std::vector<int>* claims) {
  auto m = orch::monitoring_ports(s);
  std::vector<int> ports{orch::blacklist_redis_port(s),
                         orch::blacklist_redis_exporter_port(s),
                         m.prometheus,
                         m.alertmanager,
                         m.monitor,
                         m.grafana};
  for (const auto& c : codes)
    for (const auto& [name, port] : orch::named_ports(orch::resolve_ports(c, s).ports)) ports.push_back(port);
  bool ok = true;
  // Free on 127.0.0.2 too: tests place instances there (the stand-in for another machine).
  for (int p : ports) ok = ok && orch::port_free(p) && orch::port_free(p, "127.0.0.2");
  std::vector<int> mine;
  if (!ok || (claims && !claim_ports(ports, &mine))) return false;
  if (claims) claims->insert(claims->end(), mine.begin(), mine.end());
  return true;
}

int choose_port_shift(const std::vector<std::string>& codes, std::vector<int>* claims) {
  std::vector<int> candidates;
  for (int s = 10000; s < 20000; s += 100) candidates.push_back(s);
  // Start at a pid-dependent place so parallel test binaries rarely race for the same shift.
  size_t start = static_cast<size_t>(::getpid()) % candidates.size();
  for (size_t k = 0; k < candidates.size(); ++k) {
    int s = candidates[(start + k) % candidates.size()];
    if (claim_port_shift(codes, s, claims)) return s;
  }
  throw std::runtime_error("no free port shift found");
}

DiveCli::DiveCli(const std::vector<std::string>& codes)
    : home_(std::make_unique<TempDir>("dive-it")), shift_(choose_port_shift(codes, &port_claims_)) {
  ::chmod(home_->path().c_str(), 0755);  // PostgreSQL runs as the postgres user when we are root
}

DiveCli::DiveCli(const std::vector<std::string>& codes, int shift)
    : home_(std::make_unique<TempDir>("dive-it")), shift_(shift) {
  if (!claim_port_shift(codes, shift, &port_claims_))
    throw std::runtime_error("the ports of shift " + std::to_string(shift) + " are busy or claimed");
  ::chmod(home_->path().c_str(), 0755);
}

DiveCli::~DiveCli() {
  // DIVE_TEST_LOGS=<dir>: the services' logs are kept there (one folder per test home) for a post-mortem.
  if (const char* keep = std::getenv("DIVE_TEST_LOGS"); keep && *keep) {
    std::error_code ec;
    const auto to = fs::path(keep) / home().filename();
    fs::create_directories(to, ec);
    for (const auto& inst : fs::directory_iterator(home() / "instances", ec))
      fs::copy(inst.path() / "logs", to / inst.path().filename(), fs::copy_options::recursive, ec);
  }
  auto r = run({"nuke", "all", "--confirm"}, std::chrono::seconds(120));
  if (r.exit_code != 0) ADD_FAILURE() << "cleanup (nuke all) failed:\n" << r.output;
  for (int fd : port_claims_) ::close(fd);
}

RunResult DiveCli::run(const std::vector<std::string>& args, std::chrono::seconds timeout) const {
  SpawnOptions o;
  o.argv = {binary()};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env["DIVE_HOME"] = home().string();
  o.env["DIVE_PORT_SHIFT"] = std::to_string(shift_);
  o.env["NO_COLOR"] = "1";
  o.env["DIVE_ROOT"] = DIVE_SOURCE_DIR;
  return run_capture(o, timeout);
}

Json DiveCli::run_json(const std::vector<std::string>& args) const {
  SpawnOptions o;
  o.argv = {"sh", "-c", "exec \"$0\" \"$@\" 2>/dev/null", binary()};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env["DIVE_HOME"] = home().string();
  o.env["DIVE_PORT_SHIFT"] = std::to_string(shift_);
  o.env["DIVE_ROOT"] = DIVE_SOURCE_DIR;
  auto r = run_capture(o, std::chrono::seconds(60));
  try {
    return Json::parse(r.output);
  } catch (const std::exception&) {
    ADD_FAILURE() << "not JSON from dive " << args.front() << " (exit " << r.exit_code << "):\n" << r.output;
    return Json();
  }
}

int DiveCli::port(const std::string& code, const std::string& service) const {
  auto p = orch::resolve_ports(code, shift_).ports;
  if (service == "api") return p.api;
  if (service == "idp") return p.idp;
  if (service == "pdp") return p.pdp;
  if (service == "kas") return p.kas;
  if (service == "web") return p.web;
  if (service == "postgres") return p.postgres;
  if (service == "redis") return p.redis;
  if (service == "blacklist") return orch::blacklist_redis_port(shift_);
  throw std::invalid_argument(service);
}

Json DiveCli::instance_config(const std::string& code) const {
  std::string lower = code;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return Json::parse(read_file(home() / "instances" / lower / "instance.json"));
}

std::pair<int, std::string> DiveCli::https_get(int port, const std::string& path) const {
  net::ClientConfig cc;
  cc.ca_file = ca_file().string();
  net::HttpsClient client(cc);
  net::ClientRequest r;
  r.url = "https://localhost:" + std::to_string(port) + path;
  r.timeout = std::chrono::milliseconds(5000);
  auto resp = client.send(r);
  return {resp.status, resp.body};
}

Json DiveCli::service_status(const std::string& code, const std::string& name) const {
  Json st =
      code == "USA" ? run_json({"hub", "status", "--json"}) : run_json({"spoke", "status", code, "--json"});
  for (const auto& s : st["services"])
    if (s["name"] == name) return s;
  return Json();
}

}  // namespace dive::testing
