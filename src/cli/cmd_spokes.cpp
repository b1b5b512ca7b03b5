// The federation's operator commands (docs/FEDERATION.md):
//   ./dive hub enroll <CODE> [--ttl 24h] [--max-classification L] [--trust LEVEL] [--json]
//   ./dive hub spokes [--json]        and  approve|suspend|reinstate|revoke|rotate <CODE>, audit [CODE]
//   ./dive federation status [--json]
#include <cstdio>
#include <ctime>
#include <memory>

#include "cli/admin_audit.hpp"
#include "cli/context.hpp"
#include "common/fs.hpp"
#include "common/strings.hpp"
#include "federation/enrollment.hpp"
#include "federation/instance_state.hpp"
#include "net/https_client.hpp"
#include "orchestrator/federation_ops.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/ports.hpp"

namespace dive::cli {

namespace fed = dive::federation;
using namespace std::chrono_literals;

namespace {

std::chrono::seconds parse_ttl(const std::string& s) {
  if (s.empty()) throw UsageError("--ttl needs a value such as 24h, 30m or 7d");
  char unit = s.back();
  auto n = parse_int(std::isdigit(static_cast<unsigned char>(unit)) ? s : s.substr(0, s.size() - 1));
  if (!n || *n <= 0)
    throw UsageError("--ttl must be a positive duration such as 24h, 30m or 7d (got '" + s + "')");
  int64_t mult = 1;
  switch (unit) {
    case 's':
      mult = 1;
      break;
    case 'm':
      mult = 60;
      break;
    case 'h':
      mult = 3600;
      break;
    case 'd':
      mult = 86400;
      break;
    default:
      if (!std::isdigit(static_cast<unsigned char>(unit)))
        throw UsageError("--ttl unit must be s, m, h or d (got '" + s + "')");
  }
  if (*n * mult > 30 * 86400)
    throw UsageError("--ttl is at most 30d: an enrollment token is a secret in transit");
  return std::chrono::seconds(*n * mult);
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string age_text(const Json& ms) {
  if (!ms.is_number()) return "never";
  return format_duration_ms(ms.get<int64_t>()) + " ago";
}

void check_level(const std::string& cap, const std::string& trust) {
  if (!cap.empty() && !fed::valid_classification(cap))
    throw UsageError(
        "--max-classification must be one of UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET, "
        "TOP_SECRET (got '" +
        cap + "')");
  if (!trust.empty() && !fed::valid_trust_level(trust))
    throw UsageError("--trust must be one of HIGH, MEDIUM, LOW, DEVELOPMENT (got '" + trust + "')");
}

struct SpokeArgs {
  std::string code, ttl = "24h", cap, trust, reason;
  bool json = false;
  int limit = 50;
};

void print_spokes(bool json) {
  auto spokes = orch::list_spokes(ctx().layout);
  auto interval = orch::heartbeat_interval(ctx().layout);
  auto now = std::chrono::system_clock::now();
  Json all = Json::array();
  for (const auto& s : spokes) all.push_back(s.to_json(now, interval));
  if (json) {
    std::printf("%s\n", Json{{"heartbeatIntervalMs", interval.count()}, {"spokes", all}}.dump(2).c_str());
    return;
  }
  if (all.empty()) {
    std::printf("no spokes registered (enroll one: ./dive hub enroll <CODE>)\n");
    return;
  }
  std::printf("%-4s %-9s %-6s %-28s %-6s %-12s %-14s %-6s %s\n", "CODE", "STATUS", "SOURCE", "API", "TRUST",
              "MAX CLASS", "HEARTBEAT", "STALE", "BUNDLE");
  for (const auto& s : all)
    std::printf("%-4s %-9s %-6s %-28s %-6s %-12s %-14s %-6s %lld\n", s.value("code", "").c_str(),
                s.value("status", "").c_str(), s.value("source", "").c_str(), s.value("apiUrl", "").c_str(),
                s.value("trustLevel", "").c_str(), s.value("maxClassification", "").c_str(),
                age_text(s["heartbeatAgeMs"]).c_str(), s.value("stale", false) ? "STALE" : "no",
                static_cast<long long>(s.value("bundleRevision", int64_t{0})));
}

// ./dive hub enroll: a one-time enrollment token for the spoke a.code, printed (or as JSON).
void enroll_spoke(const SpokeArgs& a) {
  check_level(a.cap, a.trust);
  orch::EnrollOptions o;
  o.code = parse_spoke_code(a.code);
  o.ttl = parse_ttl(a.ttl);
  if (!a.cap.empty()) o.max_classification = a.cap;
  if (!a.trust.empty()) o.trust_level = a.trust;
  auto e = orch::create_enrollment(ctx().layout, o);
  if (a.json) {
    std::printf("%s\n", Json{{"code", o.code},
                             {"token", e.token},
                             {"hubUrl", e.hub_url},
                             {"caFingerprint", e.ca_fingerprint},
                             {"expiresAt", iso_time(e.expires_at)},
                             {"maxClassification", o.max_classification},
                             {"trustLevel", o.trust_level}}
                            .dump(2)
                            .c_str());
    return;
  }
  ctx().out.ok("enrollment token for " + o.code + " (valid until " + iso_time(e.expires_at) +
               ", single use; max classification " + o.max_classification + ", trust " + o.trust_level + ")");
  std::printf("\n  %s\n\n", e.token.c_str());
  std::printf("hub %s, CA fingerprint %s\n", e.hub_url.c_str(),
              fed::display_fingerprint(e.ca_fingerprint).c_str());
  std::printf("On the spoke's machine:  ./dive spoke deploy %s --join <token>\n", o.code.c_str());
  std::printf("Treat the token as a secret until it is used; it is shown only now.\n");
}

void add_hub_enroll_command(CLI::App& hub, SpokeArgs& a) {
  auto* enroll = hub.add_subcommand(
      "enroll",
      "Print a one-time enrollment token for a spoke on another machine (stored hashed; single use)");
  enroll->add_option("CODE", a.code, "The spoke's instance code, e.g. FRA")->required();
  enroll->add_option("--ttl", a.ttl, "How long the token is valid: 30m, 24h (default), 7d (at most 30d)");
  enroll->add_option("--max-classification", a.cap, "The highest classification its users may be granted");
  enroll->add_option("--trust", a.trust, "Trust level: HIGH (default), MEDIUM, LOW, DEVELOPMENT");
  enroll->add_flag("--json", a.json, "Machine-readable output");
  enroll->callback([&a] { enroll_spoke(a); });
}

// A registry change of ./dive hub spokes <verb> CODE.
struct Verb {
  const char* name;
  fed::Action action;
  const char* help;
};

// The change in the hub's audit trail, done or refused.
void record_spoke_change(const SpokeArgs& a, const Verb& v, const std::string& code,
                         const orch::SpokeChange& ch) {
  const bool done = ch.result.outcome == fed::ChangeOutcome::Done;
  record_admin(std::string(orch::kHubCode),
               admin_event(std::string("admin.spoke_") + v.name, code, done,
                           done ? std::string(fed::to_string(ch.result.from)) + " -> " +
                                      fed::to_string(ch.result.to) + (a.reason.empty() ? "" : ": " + a.reason)
                           : ch.result.outcome == fed::ChangeOutcome::NotFound
                               ? "not in the registry"
                               : "not allowed from " + std::string(fed::to_string(ch.result.from)),
                           audit::details(Json{{"bundleRevision", ch.bundle_revision},
                                               {"maxClassification", a.cap},
                                               {"trust", a.trust}})));
}

// After a rotation: where the spoke's new credential is (its secrets.json in the same home), or the
// credential itself, shown once, to carry to the spoke's machine.
void show_new_credential(const std::string& code, const std::string& credential) {
  auto link = fed::read_hub_link(fed::FederationPaths::of(ctx().layout.instance(code).dir));
  if (link && link->same_home) {
    ctx().out.info("the new credential is in " + code + "'s secrets.json (same home)");
  } else {
    std::printf("\nnew credential (shown once): %s\n", credential.c_str());
    std::printf("On the spoke's machine:  ./dive spoke credential %s   (reads it from stdin)\n",
                code.c_str());
  }
}

// ./dive hub spokes <verb> CODE: the change applied to the registry, audited, and reported.
void change_spoke_status(const SpokeArgs& a, const Verb& v) {
  check_level(a.cap, a.trust);
  const std::string code = parse_spoke_code(a.code);
  fed::ChangeOptions o;
  if (!a.cap.empty()) o.max_classification = a.cap;
  if (!a.trust.empty()) o.trust_level = a.trust;
  o.actor = operator_name();
  o.reason = a.reason;
  auto ch = orch::change_spoke(ctx().layout, code, v.action, o);
  record_spoke_change(a, v, code, ch);
  switch (ch.result.outcome) {
    case fed::ChangeOutcome::NotFound:
      ctx().out.fail(code + " is not in the registry (./dive hub spokes lists it)");
      ctx().exit_code = kFailed;
      return;
    case fed::ChangeOutcome::NotAllowed:
      ctx().out.fail(std::string("cannot ") + v.name + " " + code + ": it is " +
                     fed::to_string(ch.result.from));
      ctx().exit_code = kFailed;
      return;
    case fed::ChangeOutcome::Done:
      break;
  }
  ctx().out.ok(code + ": " + fed::to_string(ch.result.from) + " -> " + fed::to_string(ch.result.to) +
               " (trust bundle revision " + std::to_string(ch.bundle_revision) + ")");
  if (v.action == fed::Action::Rotate) show_new_credential(code, ch.result.credential);
}

// ./dive hub spokes audit [CODE]: every registry change, newest first.
void print_spoke_audit(const SpokeArgs& a) {
  auto rows = orch::spoke_audit(ctx().layout, a.code.empty() ? "" : parse_spoke_code(a.code), a.limit);
  if (a.json) {
    std::printf("%s\n", rows.dump(2).c_str());
    return;
  }
  for (const auto& r : rows)
    std::printf("%s  %-4s %-16s %-9s -> %-9s %-24s %s\n",
                iso_time(std::chrono::system_clock::time_point(
                             std::chrono::milliseconds(r.value("atMs", int64_t{0}))))
                    .c_str(),
                r.value("code", "").c_str(), r.value("action", "").c_str(),
                r["from"].is_string() ? r["from"].get<std::string>().c_str() : "-",
                r["to"].is_string() ? r["to"].get<std::string>().c_str() : "-", r.value("actor", "").c_str(),
                r["detail"].dump().c_str());
}

void add_hub_spokes_commands(CLI::App& hub, SpokeArgs& a) {
  auto* spokes = hub.add_subcommand("spokes", "The federation registry: list the spokes, or act on one");
  spokes->add_flag("--json", a.json, "Machine-readable output");
  spokes->callback([spokes, &a] {
    if (spokes->get_subcommands().empty()) print_spokes(a.json);
  });
  for (const Verb& v :
       {Verb{"approve", fed::Action::Approve, "Approve a pending spoke (its users become trusted)"},
        Verb{"suspend", fed::Action::Suspend, "Suspend an approved spoke: its trust is removed everywhere"},
        Verb{"reinstate", fed::Action::Reinstate, "Reinstate a suspended spoke"},
        Verb{"revoke", fed::Action::Revoke, "Revoke a spoke for good (its credential stops working)"},
        Verb{"rotate", fed::Action::Rotate, "Give a spoke a new credential (the old one stops working)"}}) {
    auto* sub = spokes->add_subcommand(v.name, v.help);
    sub->add_option("CODE", a.code, "The spoke's instance code")->required();
    if (v.action == fed::Action::Approve) {
      sub->add_option("--max-classification", a.cap, "The highest classification its users may be granted");
      sub->add_option("--trust", a.trust, "Trust level: HIGH, MEDIUM, LOW, DEVELOPMENT");
    }
    sub->add_option("--reason", a.reason, "Why (kept in the audit trail)");
    sub->callback([v, &a] { change_spoke_status(a, v); });
  }
  auto* audit = spokes->add_subcommand("audit", "Every registry change, newest first");
  audit->add_option("CODE", a.code, "Only this spoke");
  audit->add_option("-n,--limit", a.limit, "Rows (default 50)");
  audit->add_flag("--json", a.json, "Machine-readable output");
  audit->callback([&a] { print_spoke_audit(a); });
}

void add_hub_commands(CLI::App& hub) {
  static SpokeArgs a;  // shared by the hub's subcommands: CLI11 parses into it
  add_hub_enroll_command(hub, a);
  add_hub_spokes_commands(hub, a);
}

void add_spoke_credential(CLI::App& spoke) {
  static std::string code;
  auto* cred = spoke.add_subcommand(
      "credential",
      "Store the federation credential the hub's operator gave after ./dive hub spokes rotate (stdin)");
  cred->add_option("CODE", code, "Spoke instance code")->required();
  cred->callback([] {
    auto paths = ctx().layout.instance(parse_spoke_code(code));
    Json sec = orch::read_secrets(paths);
    char buf[512];
    std::string value;
    if (std::fgets(buf, sizeof buf, stdin)) value = trim(buf);
    if (value.size() < 32) throw UsageError("expected the credential (43 characters) on standard input");
    sec["federation_credential"] = value;
    orch::write_secrets(paths, sec);
    ctx().out.ok("credential stored; the api picks it up on its next call to the hub");
  });
}

// Reachability of a member's api from here, with the CA set this instance trusts.
std::string probe(net::HttpsClient& http, const std::string& url, int64_t* ms) {
  net::ClientRequest r;
  r.url = url + "/health/live";
  r.timeout = 2s;
  auto t0 = std::chrono::steady_clock::now();
  try {
    auto resp = http.send(r);
    *ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    return resp.status == 200 ? "reachable" : "http " + std::to_string(resp.status);
  } catch (const std::exception& e) {
    *ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    return std::string("unreachable: ") + e.what();
  }
}

// One instance of this home as the federation sees it: its hub, registry status, trust bundle, heartbeat,
// errors, and every member's reachability from here. `ok` turns false for an error or an unreachable member.
Json instance_federation_status(const std::string& code, bool& ok) {
  auto paths = ctx().layout.instance(code);
  Json st = orch::federation_status_file(ctx().layout, code);
  auto fp = fed::FederationPaths::of(paths.dir);
  Json cfg = orch::read_instance_config(paths);
  net::ClientConfig cc;
  cc.ca_file =
      std::filesystem::exists(fp.trust_pem) ? fp.trust_pem.string() : cfg["tls"].value("ca_file", "");
  net::HttpsClient http(cc);
  Json inst{{"code", code},
            {"role", cfg.value("role", "")},
            {"hubUrl", st.value("hubUrl", Json(nullptr))},
            {"registryStatus", st.value("registryStatus", Json(nullptr))},
            {"bundleRevision", st.value("bundleRevision", 0)},
            {"lastHeartbeatMs", st.value("lastHeartbeatMs", Json(nullptr))},
            {"errors", st.value("errors", Json::object())},
            {"members", Json::array()}};
  if (auto b = orch::applied_bundle(ctx().layout, code)) {
    for (const auto& m : b->members) {
      int64_t ms = 0;
      std::string reach = probe(http, m.api_url, &ms);
      if (reach != "reachable") ok = false;
      inst["members"].push_back(Json{{"code", m.code},
                                     {"role", m.role},
                                     {"apiUrl", m.api_url},
                                     {"reachability", reach},
                                     {"latencyMs", ms}});
    }
  }
  if (!inst["errors"].empty()) ok = false;
  return inst;
}

// The hub's registry ({registry: [...]}, or {registry: null, error}); `ok` turns false for a stale spoke or
// an unreadable registry.
Json hub_registry_status(bool& ok) {
  try {
    auto interval = orch::heartbeat_interval(ctx().layout);
    auto now = std::chrono::system_clock::now();
    Json reg = Json::array();
    for (const auto& s : orch::list_spokes(ctx().layout)) reg.push_back(s.to_json(now, interval));
    for (const auto& s : reg)
      if (s.value("stale", false)) ok = false;
    return Json{{"registry", reg}};
  } catch (const std::exception& e) {
    ok = false;
    return Json{{"registry", nullptr}, {"error", e.what()}};
  }
}

// The status as text: the hub's registry, then per instance its federation state and members.
void print_federation_status(const Json& out) {
  for (const auto& inst : out) {
    if (inst.contains("registry")) {
      std::printf("\nregistry (hub):\n");
      if (inst["registry"].is_null())
        std::printf("  %s\n", inst.value("error", "").c_str());
      else
        for (const auto& s : inst["registry"])
          std::printf("  %-4s %-9s heartbeat %-14s%s bundle %lld\n", s.value("code", "").c_str(),
                      s.value("status", "").c_str(), age_text(s["heartbeatAgeMs"]).c_str(),
                      s.value("stale", false) ? " STALE" : "",
                      static_cast<long long>(s.value("bundleRevision", int64_t{0})));
      continue;
    }
    std::printf("%s (%s): hub %s, registry %s, trust bundle %lld, last heartbeat %s\n",
                inst.value("code", "").c_str(), inst.value("role", "").c_str(),
                inst["hubUrl"].is_string()        ? inst["hubUrl"].get<std::string>().c_str()
                : inst.value("role", "") == "hub" ? "(this instance)"
                                                  : "(not joined yet: its api has not reported)",
                inst["registryStatus"].is_string() ? inst["registryStatus"].get<std::string>().c_str() : "-",
                static_cast<long long>(inst.value("bundleRevision", int64_t{0})),
                inst["lastHeartbeatMs"].is_number()
                    ? iso_time(std::chrono::system_clock::time_point(
                                   std::chrono::milliseconds(inst["lastHeartbeatMs"].get<int64_t>())))
                          .c_str()
                    : "-");
    for (auto it = inst["errors"].begin(); it != inst["errors"].end(); ++it)
      std::printf("  ! %s: %s\n", it.key().c_str(), it.value().get<std::string>().c_str());
    for (const auto& m : inst["members"])
      std::printf("  %-4s %-5s %-30s %s (%lld ms)\n", m.value("code", "").c_str(),
                  m.value("role", "").c_str(), m.value("apiUrl", "").c_str(),
                  m.value("reachability", "").c_str(),
                  static_cast<long long>(m.value("latencyMs", int64_t{0})));
  }
}

void add_federation_status(CLI::App& app) {
  static bool json = false;
  auto* fedcmd = app.add_subcommand("federation", "The federation as this home sees it");
  fedcmd->require_subcommand(1);
  auto* status = fedcmd->add_subcommand(
      "status",
      "Per instance here: its hub, registry status, trust bundle applied, and every member's reachability");
  status->add_flag("--json", json, "Machine-readable output");
  status->callback([] {
    Json out = Json::array();
    bool ok = true;
    for (const auto& code : ctx().layout.deployed_codes())
      out.push_back(instance_federation_status(code, ok));
    if (orch::hub_in_home(ctx().layout)) out.push_back(hub_registry_status(ok));
    ctx().exit_code = ok ? kOk : kFailed;
    if (json) {
      std::printf("%s\n", out.dump(2).c_str());
      return;
    }
    print_federation_status(out);
  });
}

}  // namespace

void add_spokes_commands(CLI::App& app) {
  add_hub_commands(*app.get_subcommand("hub"));
  add_spoke_credential(*app.get_subcommand("spoke"));
  add_federation_status(app);
}

}  // namespace dive::cli
