#pragma once
// The on-disk layout of an instance under $DIVE_HOME (docs/ORCHESTRATION.md).
#include <filesystem>
#include <string>
#include <vector>

namespace dive::orch {

namespace fs = std::filesystem;

struct InstancePaths {
  std::string code;  // upper-case
  fs::path home;     // $DIVE_HOME
  fs::path dir;      // $DIVE_HOME/instances/<code lower>
  fs::path instance_json, secrets_json;
  fs::path certs, cert_file, key_file, ca_file;
  fs::path pg_data, redis_dir, blacklist_dir;
  fs::path logs, run;
  fs::path socket, supervisor_pid, supervisor_lock, deploy_lock;
  // The arguments of `dive` that run this unit's supervisor: {"supervise", "--instance", CODE} for an
  // instance, {"supervise", "--monitoring"} for the monitoring stack.
  std::vector<std::string> supervise_args;
  fs::path log(const std::string& svc) const { return logs / (svc + ".log"); }
  fs::path pidfile(const std::string& svc) const { return run / (svc + ".pid"); }
};

struct Layout {
  fs::path home;
  fs::path ca_dir() const { return home / "ca"; }
  fs::path ca_cert() const { return ca_dir() / "rootCA.pem"; }
  fs::path instances_dir() const { return home / "instances"; }
  InstancePaths instance(const std::string& code) const;
  // The monitoring stack ($DIVE_HOME/monitoring, docs/MONITORING.md), laid out like an instance so that
  // the same supervisor and controls run it: code "monitoring", certs/, logs/, run/.
  fs::path monitoring_dir() const { return home / "monitoring"; }
  InstancePaths monitoring() const;
  // Codes (upper-case) of every instance directory that holds an instance.json.
  std::vector<std::string> deployed_codes() const;
  static Layout from_env();  // dive_home()
};

}  // namespace dive::orch
