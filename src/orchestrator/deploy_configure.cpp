// CONFIGURING, SEEDING and VERIFYING of the deploy pipeline (docs/ORCHESTRATION.md "Deploy pipeline"):
// schema and grants, the federation, the policy bundle, seed data, the final verification.
#include "orchestrator/deploy_run.hpp"

namespace dive::orch::detail {

void Deploy::configure() {
  const auto& migs = store::instance_migrations();
  int expected = migs.empty() ? 0 : migs.back().version;
  retrying("schema check", [&] {
    pqxx::connection c(
        store::pg_conninfo("127.0.0.1", static_cast<uint16_t>(cfg_["ports"]["postgres"].get<int>()),
                           cfg_["database"].value("name", "dive"), cfg_["database"].value("user", "dive"),
                           secrets_.at("postgres_password"), 3));
    int v = store::current_schema_version(c);
    if (v < expected)
      throw std::runtime_error("instance schema at version " + std::to_string(v) + ", expected " +
                               std::to_string(expected));
  });
  out_.ok("instance database schema at version " + std::to_string(expected));
  join_federation();
  publish_policy();
}

// The federation: the hub keeps its bundle key; a spoke of this home joins its hub directly; a spoke on
// another machine joins over the network with --join / --hub (docs/FEDERATION.md).
void Deploy::join_federation() {
  if (hub_) {
    if (ensure_bundle_key(paths_)) out_.info("trust bundle signing key created");
    return;
  }
  if (!anchor_) {
    join_local_spoke(layout_, o_.code);
    out_.ok("joined the hub of this home");
    return;
  }
  auto fp = federation::FederationPaths::of(paths_.dir);
  if (o_.join.empty()) {
    if (auto link = federation::read_hub_link(fp)) out_.info("federated with hub " + link->hub_url);
    return;
  }
  JoinResult r;
  retrying("joining the hub", [&] {
    try {
      r = join_remote_hub(layout_, o_.code, o_.join);
    } catch (const JoinRefused& e) {
      throw StepFailure(errc::kFederationJoin, e.what(), e.remedy);
    }
  });
  if (auto link = federation::read_hub_link(fp)) {  // instance.json names the hub it joined
    cfg_["hub"] = Json{{"code", link->hub_code}, {"api_url", link->hub_url}};
    write_file_atomic(paths_.instance_json, cfg_.dump(2) + "\n", 0644);
  }
  if (r.status == "pending") {
    out_.warn("registered at " + o_.join.hub_url +
              ": pending until the hub's operator runs ./dive hub spokes approve " + o_.code);
    return;
  }
  out_.ok("joined hub " + o_.join.hub_url + " (" + r.status + ")");
  // The api's federation agent fetches and applies the trust bundle; wait for it (bounded).
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (federation_status_file(layout_, o_.code).value("bundleRevision", int64_t{0}) <
         std::max<int64_t>(r.bundle_revision, 1)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      out_.warn("the trust bundle of the hub is not applied yet; see ./dive federation status");
      return;
    }
    std::this_thread::sleep_for(200ms);
  }
  out_.ok("trust bundle applied (revision " +
          std::to_string(federation_status_file(layout_, o_.code).value("bundleRevision", int64_t{0})) + ")");
}

// The pdp data of the federation (trusting the issuers of its approved instances) goes to this instance and
// to every other running one of this home, whose pdps pick it up; this instance's pdp must serve it before
// we go on.
void Deploy::publish_policy() {
  Json bundle = deployment_bundle_for(layout_, o_.code);
  std::vector<std::string> targets{o_.code};
  if (!anchor_ || hub_)
    for (const auto& other : layout_.deployed_codes())
      if (other != o_.code && supervisor_running(layout_.instance(other))) targets.push_back(other);
  std::string revision;
  for (const auto& r : publish_bundle(layout_, bundle, "deployment", targets)) {
    if (r.code == o_.code) {
      if (!r.ok) throw std::runtime_error("cannot store the policy bundle: " + r.error);
      revision = r.revision;
    } else if (!r.ok) {
      out_.warn("policy bundle not updated on " + r.code + ": " + r.error);
    }
  }
  retrying("policy bundle activation", [&] {
    if (!wait_pdp_revision(layout_, o_.code, revision, 10s))
      throw std::runtime_error("the pdp does not serve bundle " + revision.substr(0, 12) + " yet");
  });
  out_.ok("pdp serves policy bundle " + revision.substr(0, 12) + " (" +
          std::to_string(bundle["trusted_issuers"].size()) + " trusted issuers)");
}

void Deploy::seed() {
  SeedRequest req;
  req.code = o_.code;
  req.count = cfg_.value("/seed/count"_json_pointer, 500);  // --seed N is stored there
  req.top_up = true;                                        // a redeploy seeds only what is missing
  if (req.count == 0 || o_.skip_seeding) {
    skipped_ = true;
    out_.info(o_.skip_seeding ? "seeding skipped (restored documents)" : "seeding skipped (--seed 0)");
    return;
  }
  SeedReport rep;
  retrying("seeding", [&] { rep = seed_instance(layout_, req); });
  if (rep.generated == 0) {
    skipped_ = true;
    out_.ok("documents already seeded (" + std::to_string(rep.total_documents) + " in the instance)");
    return;
  }
  out_.ok("seeded " + std::to_string(rep.inserted) + " documents in " +
          format_duration_ms(static_cast<int64_t>(rep.seconds * 1000)) + " (" +
          std::to_string(static_cast<int64_t>(rep.generated / std::max(rep.seconds, 1e-3))) + "/s, KAS key " +
          rep.kas_kid + "; " + std::to_string(rep.total_documents) + " in the instance)");
}

void Deploy::verify() {
  VerifyReport rep;
  retrying("verification", [&] {
    rep = verify_instance(layout_, o_.code);
    if (!rep.ok()) {
      for (const auto& c : rep.checks)
        if (!c.ok) throw std::runtime_error(c.name + ": " + c.detail);
    }
  });
  out_.ok("verified: " + std::to_string(rep.passed()) + "/" + std::to_string(rep.checks.size()) +
          " checks passed");
}

}  // namespace dive::orch::detail
