// ./dive policy status [--json] | reload [CODE] | load <FILE> [CODE]
#include <cstdio>

#include "cli/admin_audit.hpp"
#include "cli/context.hpp"
#include "common/fs.hpp"
#include "orchestrator/policy_publish.hpp"
#include "policy/bundle.hpp"

namespace dive::cli {

using namespace std::chrono_literals;

namespace {
// Publishes to the given instances (all running ones by default) and waits for their pdps.
int publish_and_wait(const Json& bundle, const std::string& source, const std::string& code_arg) {
  std::vector<std::string> codes;
  if (!code_arg.empty()) codes.push_back(parse_code(code_arg));
  int rc = kOk;
  for (const auto& r : orch::publish_bundle(ctx().layout, bundle, source, codes)) {
    record_admin(r.code, admin_event("admin.policy_load", r.revision, r.ok,
                                     r.ok ? "policy data bundle published (" + source + ")" : r.error,
                                     audit::details(Json{{"source", source}, {"revision", r.revision}})));
    if (!r.ok) {
      ctx().out.fail(r.code + ": " + r.error);
      rc = kFailed;
      continue;
    }
    if (orch::wait_pdp_revision(ctx().layout, r.code, r.revision, 15s)) {
      ctx().out.ok(r.code + ": pdp serves bundle " + r.revision.substr(0, 12));
    } else {
      ctx().out.fail(
          r.code + ": bundle " + r.revision.substr(0, 12) +
          " stored and active, but the pdp does not serve it (is it running? ./dive policy status)");
      rc = kFailed;
    }
  }
  return rc;
}

// Active (database) and served (pdp) bundle revision of every deployed instance; kFailed when a
// running instance's pdp is out of step.
int print_policy_status(bool json) {
  Json all = Json::array();
  bool ok = true;
  for (const auto& c : ctx().layout.deployed_codes()) {
    auto s = orch::pdp_bundle_status(ctx().layout, c);
    bool in_step = !s.active_revision.empty() && s.active_revision == s.served_revision;
    if (s.running) ok = ok && in_step;
    all.push_back(Json{{"code", c},
                       {"running", s.running},
                       {"activeRevision", s.active_revision},
                       {"servedRevision", s.served_revision},
                       {"inStep", in_step},
                       {"pdp", s.detail},
                       {"error", s.error}});
    if (json) continue;
    if (!s.running) {
      std::printf("%-4s stopped; active revision %s\n", c.c_str(),
                  s.active_revision.empty() ? "-" : s.active_revision.substr(0, 12).c_str());
      continue;
    }
    std::string src = s.detail.is_object() ? s.detail.value("source", "") : "";
    std::printf("%-4s %s %s (from %s)%s\n", c.c_str(), in_step ? "serves" : "OUT OF STEP: serves",
                s.served_revision.empty() ? "nothing" : s.served_revision.substr(0, 12).c_str(), src.c_str(),
                in_step ? "" : (", active " + s.active_revision.substr(0, 12)).c_str());
    if (s.detail.is_object() && !s.detail["lastError"].is_null())
      std::printf("     last error: %s\n", s.detail["lastError"].get<std::string>().c_str());
  }
  if (json) std::printf("%s\n", all.dump(2).c_str());
  return ok ? kOk : kFailed;
}

// Validates an operator's bundle file and publishes it; a refused file is recorded in the admin
// audit of the targeted instances and nothing is published.
int publish_bundle_file(const std::string& file, const std::string& code) {
  Json bundle;
  try {
    bundle = Json::parse(read_file(file));
    policy::parse_bundle(bundle);
  } catch (const std::exception& e) {
    const std::string why = std::string("bundle refused, nothing published: ") + e.what();
    for (const auto& c :
         code.empty() ? ctx().layout.deployed_codes() : std::vector<std::string>{parse_code(code)})
      record_admin(
          c, admin_event("admin.policy_load", "", false, why,
                         audit::details(Json{{"file", std::filesystem::path(file).filename().string()}})));
    ctx().out.fail(why);
    return kFailed;
  }
  return publish_and_wait(bundle, "file:" + std::filesystem::path(file).filename().string(), code);
}

}  // namespace

void add_policy_command(CLI::App& app) {
  auto* pol = app.add_subcommand("policy", "The pdp data bundles of the deployed instances");
  pol->require_subcommand(1);
  static bool json = false;
  static std::string code, file;

  auto* status =
      pol->add_subcommand("status", "Active (database) and served (pdp) bundle revision of every instance");
  status->add_flag("--json", json, "Machine-readable output");
  status->callback([] { ctx().exit_code = print_policy_status(json); });

  auto* reload = pol->add_subcommand(
      "reload", "Recompute the deployment bundle and publish it (all running instances by default)");
  reload->add_option("CODE", code, "Only this instance");
  reload->callback([] {
    ctx().exit_code = publish_and_wait(orch::deployment_bundle_for(ctx().layout), "deployment", code);
  });

  auto* load = pol->add_subcommand(
      "load", "Publish an operator's bundle file (validated first; nothing changes if invalid)");
  load->add_option("FILE", file, "Bundle JSON (shape of data/policy-bundle.json)")
      ->required()
      ->check(CLI::ExistingFile);
  load->add_option("CODE", code, "Only this instance");
  load->callback([] { ctx().exit_code = publish_bundle_file(file, code); });
}

}  // namespace dive::cli
