#include "orchestrator/instance_control.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "common/strings.hpp"
#include "orchestrator/child_spec.hpp"
#include "orchestrator/control_socket.hpp"
#include "orchestrator/pidfile.hpp"

namespace dive::orch {

using namespace std::chrono_literals;

namespace {
std::string log_tail(const std::filesystem::path& p, size_t max_lines) {
  auto text = try_read_file(p);
  if (!text) return "";
  auto lines = split(*text, '\n');
  size_t from = lines.size() > max_lines ? lines.size() - max_lines : 0;
  std::vector<std::string> tail(lines.begin() + static_cast<long>(from), lines.end());
  return join(tail, "\n");
}
}  // namespace

Json instance_status(const InstancePaths& paths, bool hub) {
  return supervised_status(paths, child_names(hub));
}

Json supervised_status(const InstancePaths& paths, const std::vector<std::string>& names) {
  if (auto r = supervisor_request(paths.socket, Json{{"cmd", "status"}}); r && r->value("ok", false)) {
    Json s = (*r)["status"];
    s["running"] = true;
    return s;
  }
  Json services = Json::array();
  for (const auto& name : names) {
    Json s = {{"name", name}, {"state", "stopped"}, {"pid", nullptr}, {"restarts", 0}, {"healthy", false}};
    // A process recorded by us but without a supervisor: left over from a crash. Say so.
    if (auto rec = read_pid_record(paths.pidfile(name)); rec && record_is_live(*rec)) {
      s["state"] = "orphaned";
      s["pid"] = rec->pid;
    }
    services.push_back(s);
  }
  return Json{{"instance", paths.code}, {"running", false}, {"supervisor", nullptr}, {"services", services}};
}

bool supervisor_running(const InstancePaths& paths) {
  return supervisor_request(paths.socket, Json{{"cmd", "status"}}, 2000ms).has_value();
}

void start_supervisor(const InstancePaths& paths, const std::filesystem::path& dive_exe) {
  if (supervisor_running(paths)) return;
  ensure_dir(paths.run, 0700);
  ensure_dir(paths.logs, 0755);
  SpawnOptions o;
  o.argv = {dive_exe.string()};
  o.argv.insert(o.argv.end(), paths.supervise_args.begin(), paths.supervise_args.end());
  o.stdout_path = paths.log("supervisor").string();
  o.new_session = true;
  // The supervisor must find the same state dir whatever the caller's environment says.
  o.env["DIVE_HOME"] = paths.home.string();
  pid_t pid = spawn(o);
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (supervisor_running(paths)) return;
    if (auto st = wait_child(pid, 0ms)) {
      throw std::runtime_error("the supervisor of " + paths.code + " exited at start (" +
                               describe_wait_status(*st) + "):\n" + log_tail(paths.log("supervisor"), 15));
    }
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error("the supervisor of " + paths.code + " did not answer within 15 s:\n" +
                           log_tail(paths.log("supervisor"), 15));
}

bool wait_until_healthy(const InstancePaths& paths, std::chrono::milliseconds timeout,
                        const StatusFn& on_poll) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto r = supervisor_request(paths.socket, Json{{"cmd", "status"}});
    if (!r) return false;
    const Json& st = (*r)["status"];
    if (on_poll) on_poll(st);
    bool all = true;
    for (const auto& s : st["services"])
      if (s.value("wanted", true) && !(s["state"] == "running" && s.value("healthy", false))) all = false;
    if (all) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(200ms);
  }
}

int stop_instance(const InstancePaths& paths, std::chrono::milliseconds timeout) {
  int running = 0;
  auto sup = read_pid_record(paths.supervisor_pid);
  if (auto r = supervisor_request(paths.socket, Json{{"cmd", "status"}})) {
    for (const auto& s : (*r)["status"]["services"])
      if (!s["pid"].is_null()) ++running;
    supervisor_request(paths.socket, Json{{"cmd", "shutdown"}});
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      bool sup_alive = sup && record_is_live(*sup);
      if (!sup_alive && !std::filesystem::exists(paths.socket)) break;
      std::this_thread::sleep_for(100ms);
    }
  }
  // Whatever is still alive from our records (supervisor that did not finish, orphans of a crash).
  for (const auto& rec : live_records(paths.run)) {
    ++running;
    // PostgreSQL's SIGTERM waits for its clients; SIGINT is its fast shutdown.
    bool postgres = std::filesystem::path(rec.file).stem() == "postgres";
    terminate_pid(rec.pid, 10s, postgres ? SIGINT : SIGTERM);
  }
  std::error_code ec;
  std::filesystem::remove(paths.socket, ec);
  return running;
}

Json service_command(const InstancePaths& paths, const std::string& cmd, const std::string& service) {
  auto r = supervisor_request(paths.socket, Json{{"cmd", cmd}, {"service", service}});
  if (!r) throw std::runtime_error(paths.code + " is not running (no supervisor answers); start it with up");
  if (!r->value("ok", false)) throw std::runtime_error(r->value("error", "refused"));
  return *r;
}

bool wait_for_replacement(const InstancePaths& paths, const std::string& service, int64_t old_pid,
                          std::chrono::milliseconds timeout, std::string* why) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto r = supervisor_request(paths.socket, Json{{"cmd", "status"}})) {
      for (const auto& s : (*r)["status"]["services"]) {
        if (s["name"] != service) continue;
        const int64_t pid = s["pid"].is_number_integer() ? s["pid"].get<int64_t>() : 0;
        const std::string last =
            s.value("lastRestart", Json()).is_string() ? s["lastRestart"].get<std::string>() : "";
        if (!s.value("restarting", false) && last.rfind("graceful restart failed", 0) == 0 &&
            pid == old_pid) {
          if (why) *why = last;
          return false;
        }
        // Done when the new process serves and the old one has finished draining: from then on every
        // connection (a client's pooled one too) reaches the new process and its configuration.
        if (s["state"] == "running" && s.value("healthy", false) && !s.value("restarting", false) &&
            !s.value("draining", false) && pid > 0 && pid != old_pid)
          return true;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      if (why) *why = "not replaced in time";
      return false;
    }
    std::this_thread::sleep_for(100ms);
  }
}

bool wait_for_service(const InstancePaths& paths, const std::string& service, const std::string& state,
                      bool healthy, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto r = supervisor_request(paths.socket, Json{{"cmd", "status"}})) {
      for (const auto& s : (*r)["status"]["services"]) {
        if (s["name"] != service) continue;
        if (s["state"] == state && (!healthy || s.value("healthy", false))) return true;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

RestartOutcome restart_service(const InstancePaths& paths, const std::string& service,
                               std::chrono::milliseconds timeout) {
  RestartOutcome r;
  Json answer = service_command(paths, "restart", service);
  r.graceful = answer.value("graceful", false);
  r.old_pid = answer["pid"].is_number_integer() ? answer["pid"].get<int64_t>() : 0;
  std::string why;
  const bool back = r.graceful ? wait_for_replacement(paths, service, r.old_pid, timeout, &why)
                               : wait_for_service(paths, service, "running", true, timeout);
  if (!back)
    throw std::runtime_error(service + " of " + paths.code + " was not restarted: " +
                             (why.empty() ? "not running and healthy in time" : why));
  if (auto st = supervisor_request(paths.socket, Json{{"cmd", "status"}}))
    for (const auto& s : (*st)["status"]["services"])
      if (s["name"] == service && s["pid"].is_number_integer()) r.new_pid = s["pid"].get<int64_t>();
  return r;
}

std::vector<std::string> restart_adopted_services(const InstancePaths& paths) {
  std::vector<std::string> restarted;
  auto r = supervisor_request(paths.socket, Json{{"cmd", "status"}});
  if (!r) return restarted;
  const auto& services = service_names();
  for (const auto& s : (*r)["status"].value("services", Json::array())) {
    const std::string name = s.value("name", "");
    if (!s.value("adopted", false) || std::find(services.begin(), services.end(), name) == services.end())
      continue;
    service_command(paths, "restart", name);
    restarted.push_back(name);
  }
  return restarted;
}

}  // namespace dive::orch
