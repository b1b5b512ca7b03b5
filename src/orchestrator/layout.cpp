#include "orchestrator/layout.hpp"

#include <algorithm>

#include "common/paths.hpp"
#include "common/strings.hpp"

namespace dive::orch {

InstancePaths Layout::instance(const std::string& code) const {
  InstancePaths p;
  p.code = to_upper(code);
  p.home = home;
  p.dir = instances_dir() / to_lower(code);
  p.instance_json = p.dir / "instance.json";
  p.secrets_json = p.dir / "secrets.json";
  p.certs = p.dir / "certs";
  p.cert_file = p.certs / "cert.pem";
  p.key_file = p.certs / "key.pem";
  p.ca_file = p.certs / "rootCA.pem";
  p.pg_data = p.dir / "pg";
  p.redis_dir = p.dir / "redis";
  p.blacklist_dir = p.dir / "redis-blacklist";
  p.logs = p.dir / "logs";
  p.run = p.dir / "run";
  p.socket = p.run / "supervisor.sock";
  p.supervisor_pid = p.run / "supervisor.pid";
  p.supervisor_lock = p.run / "supervisor.lock";
  p.deploy_lock = p.run / "deploy.lock";
  p.supervise_args = {"supervise", "--instance", p.code};
  return p;
}

InstancePaths Layout::monitoring() const {
  InstancePaths p;
  p.code = "monitoring";
  p.home = home;
  p.dir = monitoring_dir();
  p.certs = p.dir / "certs";
  p.cert_file = p.certs / "cert.pem";
  p.key_file = p.certs / "key.pem";
  p.ca_file = p.certs / "ca.pem";
  p.logs = p.dir / "logs";
  p.run = p.dir / "run";
  p.socket = p.run / "supervisor.sock";
  p.supervisor_pid = p.run / "supervisor.pid";
  p.supervisor_lock = p.run / "supervisor.lock";
  p.deploy_lock = p.run / "up.lock";
  p.supervise_args = {"supervise", "--monitoring"};
  return p;
}

std::vector<std::string> Layout::deployed_codes() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(instances_dir(), ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->is_directory() && fs::exists(it->path() / "instance.json"))
      out.push_back(to_upper(it->path().filename().string()));
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    if (a == "USA" || b == "USA") return a == "USA" && b != "USA";  // the hub first
    return a < b;
  });
  return out;
}

Layout Layout::from_env() {
  return Layout{dive_home()};
}

}  // namespace dive::orch
