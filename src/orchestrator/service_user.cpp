#include "orchestrator/service_user.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "common/fs.hpp"
#include "orchestrator/child_spec.hpp"
#include "orchestrator/instance_config.hpp"

namespace dive::orch {

namespace {

bool is_cxx_service(const std::string& name) {
  for (const auto& s : service_names())
    if (s == name) return true;
  return false;
}

void must(int rc, const std::string& what, const std::filesystem::path& p) {
  if (rc != 0) throw std::runtime_error("cannot " + what + " " + p.string() + ": " + std::strerror(errno));
}

void own(const std::filesystem::path& p, uid_t uid, gid_t gid, mode_t mode) {
  must(::chown(p.c_str(), uid, gid), "give", p);
  must(::chmod(p.c_str(), mode), "set the mode of", p);
}

void own_tree(const std::filesystem::path& root, uid_t uid, gid_t gid) {
  std::error_code ec;
  if (!std::filesystem::exists(root, ec)) return;
  must(::lchown(root.c_str(), uid, gid), "give", root);
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    must(::lchown(it->path().c_str(), uid, gid), "give", it->path());
}

void add_traverse(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return;
  if ((st.st_mode & S_IXOTH) == 0) must(::chmod(p.c_str(), (st.st_mode & 07777) | S_IXOTH), "open", p);
}

}  // namespace

std::optional<RunAsUser> service_account(const std::string& child) {
  if (::geteuid() != 0) return std::nullopt;
  const std::string name = is_cxx_service(child) ? "dive-" + child : "dive";
  struct passwd* pw = ::getpwnam(name.c_str());
  if (!pw)
    throw std::runtime_error("running as root, but there is no '" + name + "' system account to run " +
                             child +
                             " as (run scripts/bootstrap as root: it creates "
                             "the accounts dive, dive-api, dive-idp, dive-pdp, dive-kas and dive-web)");
  return RunAsUser{name, pw->pw_uid, pw->pw_gid};
}

void prepare_instance_for_accounts(const InstancePaths& p, const Json& secrets) {
  if (::geteuid() != 0) return;
  const auto data = service_account("redis");  // "dive": its gid is the group every account shares
  const gid_t group = data->gid;
  for (const auto& d : {p.home, p.home / "instances", p.dir}) add_traverse(d);
  add_traverse(p.home / "ca");
  if (std::filesystem::exists(p.certs)) add_traverse(p.certs);
  if (std::filesystem::exists(p.key_file)) own(p.key_file, 0, group, 0640);

  write_service_secrets(p, secrets);

  const auto state = p.dir / "state";
  ensure_dir(state, 01770);
  own(state, 0, group, 01770);
  // Files a service wrote earlier (under another owner, or before accounts were used) stay its own.
  for (const auto& svc : service_names()) {
    auto who = service_account(svc);
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(state, ec))
      if (e.path().filename().string().rfind(svc + "-", 0) == 0)
        must(::chown(e.path().c_str(), who->uid, who->gid), "give", e.path());
  }

  auto api = service_account("api");
  const auto fed = p.dir / "federation";
  ensure_dir(fed, 0755);
  own_tree(fed, api->uid, api->gid);
  own_tree(p.redis_dir, data->uid, data->gid);
  own_tree(p.blacklist_dir, data->uid, data->gid);
}

}  // namespace dive::orch
