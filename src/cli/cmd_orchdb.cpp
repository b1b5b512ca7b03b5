// ./dive orch-db status | validate [CODE] | rollback <CODE>
#include <cstdio>

#include "cli/context.hpp"
#include "orchestrator/orch_db.hpp"
#include "orchestrator/pipeline.hpp"

namespace dive::cli {

namespace {

// ./dive orch-db status: row counts, instance states, circuit breakers and open locks.
void print_orchdb_status(bool json) {
  orch::OrchDb db(orch::orchestration_conninfo(ctx().layout));
  Json r = db.status_report();
  if (json) {
    std::printf("%s\n", r.dump(2).c_str());
    return;
  }
  std::printf("orchestration database, schema version %d\n", r["schemaVersion"].get<int>());
  for (auto& [t, n] : r["tables"].items()) std::printf("  %-22s %lld rows\n", t.c_str(), n.get<long long>());
  std::printf("instances:\n");
  for (const auto& i : r["instances"])
    std::printf("  %-4s %-13s since %s  %s\n", i["code"].get<std::string>().c_str(),
                i["state"].get<std::string>().c_str(), i["since"].get<std::string>().c_str(),
                i["reason"].get<std::string>().c_str());
  std::printf("circuit breakers:\n");
  for (const auto& b : r["breakers"])
    std::printf("  %-20s %-9s failures %d\n", b["operation"].get<std::string>().c_str(),
                b["state"].get<std::string>().c_str(), b["failures"].get<int>());
  std::printf("open deployment locks: %zu, unresolved errors: %lld\n", r["openLocks"].size(),
              r["unresolvedErrors"].get<long long>());
}

// ./dive orch-db validate [CODE]: each finding as an error or a warning; kFailed unless consistent.
int validate_orchdb(const std::string& code, bool json) {
  std::optional<std::string> c;
  if (!code.empty()) c = parse_code(code);
  orch::OrchDb db(orch::orchestration_conninfo(ctx().layout));
  Json r = db.validate(c);
  if (json)
    std::printf("%s\n", r.dump(2).c_str());
  else {
    for (const auto& f : r["findings"]) {
      if (f["severity"] == "error")
        ctx().out.fail(f["finding"].get<std::string>());
      else
        ctx().out.warn(f["finding"].get<std::string>());
    }
    if (r["ok"].get<bool>())
      ctx().out.ok("orchestration state consistent" + (c ? " for " + *c : std::string()));
  }
  return r["ok"].get<bool>() ? kOk : kFailed;
}

}  // namespace

void add_orchdb_command(CLI::App& app) {
  auto* odb = app.add_subcommand("orch-db", "Orchestration state in the hub's database");
  odb->require_subcommand(1);
  static bool json = false;
  static std::string code;

  auto* status = odb->add_subcommand("status", "Row counts, current states, breakers, open locks");
  status->add_flag("--json", json, "Machine-readable output");
  status->callback([] { print_orchdb_status(json); });

  auto* validate = odb->add_subcommand("validate", "Check recorded states, transitions, locks and steps");
  validate->add_option("CODE", code, "Only this instance");
  validate->add_flag("--json", json, "Machine-readable output");
  validate->callback([] { ctx().exit_code = validate_orchdb(code, json); });

  auto* rollback =
      odb->add_subcommand("rollback", "Return an instance's recorded state to the one before it");
  rollback->add_option("CODE", code, "Instance code")->required();
  rollback->callback([] {
    auto c = parse_code(code);
    orch::OrchDb db(orch::orchestration_conninfo(ctx().layout));
    auto [from, to] = db.rollback(c);
    ctx().out.ok(c + ": state rolled back " + orch::to_string(from) + " -> " + orch::to_string(to));
  });
}

}  // namespace dive::cli
