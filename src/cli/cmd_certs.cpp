// ./dive certs generate <CODE> [--force] | sync-ca | verify [CODE] [--json]
#include <cstdio>

#include "cli/context.hpp"
#include "orchestrator/certs.hpp"

namespace dive::cli {

namespace {

// ./dive certs verify [CODE]: chain, SANs and days to expiry of one instance or every deployed one;
// kFailed when a certificate fails or there is no instance.
int verify_certs(const std::string& verify_code, bool json) {
  std::vector<std::string> codes;
  if (!verify_code.empty())
    codes.push_back(parse_code(verify_code));
  else
    codes = ctx().layout.deployed_codes();
  if (codes.empty()) {
    ctx().out.warn("no instances under " + ctx().layout.instances_dir().string());
    return kFailed;
  }
  Json all = Json::array();
  bool ok = true;
  for (const auto& c : codes) {
    auto r = orch::verify_instance_cert(ctx().layout, c);
    ok = ok && r.ok();
    all.push_back(r.to_json());
    if (json) continue;
    if (r.ok()) {
      std::string msg = c + ": chain ok, " + std::to_string(r.sans.size()) + " SANs, " +
                        std::to_string(r.days_left) + " days left (until " + r.not_after + ")";
      if (r.days_left <= 30)
        ctx().out.warn(msg + " — renew with ./dive certs generate " + c + " --force");
      else
        ctx().out.ok(msg);
    } else {
      ctx().out.fail(c + ": " + r.error);
    }
  }
  if (json) std::printf("%s\n", all.dump(2).c_str());
  return ok ? kOk : kFailed;
}

}  // namespace

void add_certs_command(CLI::App& app) {
  auto* certs = app.add_subcommand("certs", "Instance certificates from the local mkcert CA ($DIVE_HOME/ca)");
  certs->require_subcommand(1);

  static std::string gen_code;
  static bool force = false;
  auto* gen = certs->add_subcommand("generate", "Create (or renew) the server certificate of an instance");
  gen->add_option("CODE", gen_code, "Instance code")->required();
  gen->add_flag("--force", force, "Regenerate even when the current certificate is valid");
  gen->callback([] {
    auto code = parse_code(gen_code);
    bool made = orch::generate_instance_cert(ctx().layout, code, force);
    auto paths = ctx().layout.instance(code);
    ctx().out.ok(std::string(made ? "generated " : "kept valid ") + paths.cert_file.string());
  });

  auto* sync = certs->add_subcommand("sync-ca", "Copy the CA certificate into every instance's certs/");
  sync->callback([] {
    auto codes = orch::sync_ca(ctx().layout);
    ctx().out.ok("CA copied into " + std::to_string(codes.size()) + " instance(s)");
  });

  static std::string verify_code;
  static bool json = false;
  auto* ver =
      certs->add_subcommand("verify", "Check chain, SANs and days to expiry (every instance by default)");
  ver->add_option("CODE", verify_code, "Instance code");
  ver->add_flag("--json", json, "Machine-readable output");
  ver->callback([] { ctx().exit_code = verify_certs(verify_code, json); });
}

}  // namespace dive::cli
