// ./dive audit [--instance CODE] [--user U] [--resource ID] [--since T] [--until T] [--type T] [--outcome O]
//              [--limit N] [--json]                          the trail, newest first (docs/AUDIT.md)
// ./dive audit export [--since T ...] --format jsonl|csv [--out FILE]   every matching record, oldest first
// ./dive audit verify [--instance CODE] [--expect SEQ:HASH ...] [--json]   walks the whole chain from its
//                                                            anchor; checks it still reaches each kept head
// ./dive audit prune [--instance CODE] [--days N]            applies the retention now
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <pqxx/pqxx>

#include "audit/filter.hpp"
#include "audit/pg_store.hpp"
#include "cli/admin_audit.hpp"
#include "cli/context.hpp"
#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "orchestrator/ports.hpp"

namespace dive::cli {

namespace {

struct AuditArgs {
  std::string instance;
  std::map<std::string, std::string> filter;  // user, resource, since, until, type, outcome, limit
  bool json = false;
  std::string format = "jsonl", out;
  int days = 0;
  std::vector<std::string> expect;  // kept heads, "SEQ:HASH"
};

std::string resolved(const AuditArgs& a) {
  return a.instance.empty() ? std::string(orch::kHubCode) : parse_code(a.instance);
}

pqxx::connection connect(const std::string& code) {
  auto paths = ctx().layout.instance(code);
  if (!std::filesystem::exists(paths.instance_json))
    throw UsageError(code + " is not deployed here (" + ctx().layout.home.string() + ")");
  return pqxx::connection(orch::instance_db_conninfo(paths));
}

audit::Filter filter_of(const AuditArgs& a, int default_limit) {
  try {
    return audit::parse_filter(a.filter, Clock::system().unix_millis(), 100000, default_limit);
  } catch (const audit::FilterError& e) {
    throw UsageError(e.what());
  }
}

std::string cut(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 1) + "~";
}

void print_table(const std::vector<audit::Record>& rows) {
  std::printf("%-24s %-20s %-8s %-24s %-28s %-15s %s\n", "TIME (UTC)", "TYPE", "OUTCOME", "ACTOR", "RESOURCE",
              "SOURCE", "REASON");
  for (const auto& r : rows) {
    const auto& e = r.event;
    std::printf("%-24s %-20s %-8s %-24s %-28s %-15s %s\n", audit::format_time(e.at_ms).c_str(),
                cut(e.type, 20).c_str(), e.outcome.c_str(), cut(e.actor, 24).c_str(),
                cut(e.resource.empty() ? "-" : e.resource, 28).c_str(), cut(e.source_ip, 15).c_str(),
                cut(e.reason, 80).c_str());
  }
}

void run_query(const AuditArgs& a) {
  const std::string code = resolved(a);
  audit::Filter f = filter_of(a, 50);
  auto conn = connect(code);
  pqxx::nontransaction tx(conn);
  auto rows = audit::query(tx, f);
  if (a.json) {
    Json all = Json::array();
    for (const auto& r : rows) all.push_back(audit::to_json(r));
    std::printf("%s\n", all.dump(2).c_str());
    return;
  }
  print_table(rows);
  std::printf(
      "%zu record(s) of %s%s\n", rows.size(), code.c_str(),
      static_cast<int>(rows.size()) == f.limit
          ? (" (more: --limit, or --until " + audit::format_time(rows.back().event.at_ms) + ")").c_str()
          : "");
}

void run_export(const AuditArgs& a) {
  if (a.format != "jsonl" && a.format != "csv") throw UsageError("--format: jsonl or csv");
  const std::string code = resolved(a);
  audit::Filter f = filter_of(a, 100);
  auto conn = connect(code);
  std::ofstream file;
  if (!a.out.empty()) {
    file.open(a.out, std::ios::binary | std::ios::trunc);
    if (!file) throw std::runtime_error("cannot write " + a.out);
  }
  std::ostream& out = a.out.empty() ? std::cout : file;
  // One snapshot: what was written while the export runs is not half in it.
  pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> tx(conn);
  if (a.format == "csv") out << audit::csv_header();
  int64_t n = 0;
  const auto started = std::chrono::steady_clock::now();
  audit::scan(tx, &f, [&](const audit::Record& r) {
    if (a.format == "csv")
      out << audit::to_csv(r);
    else
      out << audit::to_json(r).dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
    if (++n % 100000 == 0)
      std::fprintf(stderr, "  %lld records exported (%.1f s)\n", static_cast<long long>(n),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return static_cast<bool>(out);
  });
  tx.commit();
  out.flush();
  if (!out) throw std::runtime_error("writing the export failed" + (a.out.empty() ? "" : ": " + a.out));
  std::fprintf(stderr, "%lld record(s) of %s exported%s%s\n", static_cast<long long>(n), code.c_str(),
               a.out.empty() ? "" : " to ", a.out.c_str());
}

std::vector<audit::KeptHead> kept_heads(const AuditArgs& a) {
  std::vector<audit::KeptHead> kept;
  for (const auto& text : a.expect) {
    auto k = audit::parse_kept_head(text);
    if (!k)
      throw UsageError("--expect " + text.substr(0, 100) +
                       ": expected SEQ:HASH, a head as `audit verify` prints it (e.g. 1234:9f86d0...; 64 hex "
                       "digits)");
    kept.push_back(std::move(*k));
  }
  return kept;
}

// One line per kept head.
void print_kept(const std::vector<audit::KeptHeadResult>& results, const audit::ChainEnds& ends) {
  for (const auto& r : results) {
    const auto seq = static_cast<long long>(r.kept.seq);
    switch (r.check) {
      case audit::KeptHeadCheck::Reached:
        std::printf("  kept head %lld: reached (same hash)\n", seq);
        break;
      case audit::KeptHeadCheck::Rewritten:
        std::printf(
            "  kept head %lld: REWRITTEN: the chain now has %s there, the kept hash is %s; records up to "
            "%lld were changed after that head was kept\n",
            seq, hex_encode(r.found_hash).c_str(), hex_encode(r.kept.hash).c_str(), seq);
        break;
      case audit::KeptHeadCheck::Missing:
        std::printf(
            "  kept head %lld: MISSING: the chain ends at seq %lld, before it (records were removed)\n", seq,
            static_cast<long long>(ends.head_seq));
        break;
      case audit::KeptHeadCheck::Pruned:
        std::printf(
            "  kept head %lld: removed by the retention (the chain starts after seq %lld): nothing to "
            "compare\n",
            seq, static_cast<long long>(ends.anchor_seq));
        break;
    }
  }
}

// verify --json: the report as one object.
Json verify_json(const std::string& code, const audit::VerifyReport& rep, double secs) {
  Json j{{"instance", code},
         {"intact", !rep.broken},
         {"records", rep.records},
         {"anchorSeq", rep.ends.anchor_seq},
         {"removedByRetention", rep.ends.removed},
         {"headSeq", rep.ends.head_seq},
         {"headHash", hex_encode(rep.ends.head_hash)},
         {"seconds", secs}};
  if (!rep.kept.empty()) {
    j["kept"] = Json::array();
    for (const auto& r : rep.kept) {
      Json k{{"seq", r.kept.seq}, {"hash", hex_encode(r.kept.hash)}, {"result", audit::to_string(r.check)}};
      if (r.check == audit::KeptHeadCheck::Rewritten) k["foundHash"] = hex_encode(r.found_hash);
      j["kept"].push_back(k);
    }
    j["reachesKeptHeads"] = rep.reaches_kept_heads();
  }
  if (rep.broken)
    j["broken"] =
        Json{{"seq", rep.broken->seq},
             {"time", rep.broken->at_ms ? Json(audit::format_time(rep.broken->at_ms)) : Json(nullptr)},
             {"what", rep.broken->what}};
  return j;
}

// verify for a reader: where the chain breaks, or what it covers and the head to keep.
void print_verify(const AuditArgs& a, const std::string& code, const audit::VerifyReport& rep, double secs) {
  if (rep.broken) {
    std::printf("%s: audit chain BROKEN at seq %lld%s: %s\n", code.c_str(),
                static_cast<long long>(rep.broken->seq),
                rep.broken->at_ms ? (" (" + audit::format_time(rep.broken->at_ms) + ")").c_str() : "",
                rep.broken->what.c_str());
    std::printf("  %lld record(s) before it verified (from the anchor at seq %lld)\n",
                static_cast<long long>(rep.records), static_cast<long long>(rep.ends.anchor_seq));
    return;
  }
  std::printf("%s: %lld records, chain intact", code.c_str(), static_cast<long long>(rep.records));
  if (rep.records > 0)
    std::printf(" (seq %lld..%lld, %s .. %s)", static_cast<long long>(rep.first_seq),
                static_cast<long long>(rep.last_seq), audit::format_time(rep.first_ms).c_str(),
                audit::format_time(rep.last_ms).c_str());
  std::printf("\n  anchored at seq %lld (%lld removed by the retention); head hash %s; %.2f s\n",
              static_cast<long long>(rep.ends.anchor_seq), static_cast<long long>(rep.ends.removed),
              hex_encode(rep.ends.head_hash).c_str(), secs);
  std::printf(
      "  keep it outside this machine, and check later that the chain still reaches it:\n"
      "  ./dive audit verify%s%s --expect %lld:%s\n",
      a.instance.empty() ? "" : " --instance ", a.instance.empty() ? "" : code.c_str(),
      static_cast<long long>(rep.ends.head_seq), hex_encode(rep.ends.head_hash).c_str());
}

void run_verify(const AuditArgs& a) {
  const std::string code = resolved(a);
  const auto kept = kept_heads(a);
  auto conn = connect(code);
  const auto started = std::chrono::steady_clock::now();
  auto rep = audit::verify(
      conn, [](int64_t n) { std::fprintf(stderr, "  %lld records verified\n", static_cast<long long>(n)); },
      kept);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (a.json) {
    std::printf("%s\n", verify_json(code, rep, secs).dump(2).c_str());
  } else {
    print_verify(a, code, rep, secs);
    print_kept(rep.kept, rep.ends);
    if (!rep.reaches_kept_heads() && !rep.broken)
      std::printf(
          "%s: the chain verifies by itself but does NOT reach a head kept earlier: it was rewritten\n",
          code.c_str());
  }
  ctx().exit_code = rep.broken || !rep.reaches_kept_heads() ? kFailed : kOk;
}

void run_prune(const AuditArgs& a) {
  const std::string code = resolved(a);
  int days = a.days;
  if (days <= 0) {
    Json cfg = orch::read_instance_config(ctx().layout.instance(code));
    days = cfg.value("audit", Json::object()).value("retention_days", 365);
  }
  auto conn = connect(code);
  const int64_t removed = audit::prune(conn, days);
  record_admin(code, admin_event("admin.audit_prune", "", true,
                                 std::to_string(removed) + " record(s) older than " + std::to_string(days) +
                                     " days removed",
                                 audit::details(Json{{"removed", removed}, {"retentionDays", days}})));
  ctx().out.ok(code + ": " + std::to_string(removed) + " audit record(s) older than " + std::to_string(days) +
               " days removed; the chain is anchored at the last of them");
}

void add_filter_options(CLI::App* app, AuditArgs& a) {
  for (const auto& [flag, key, help] : std::vector<std::tuple<const char*, const char*, const char*>>{
           {"--user", "user", "Only this actor (uniqueID, username, client id or operator user@host)"},
           {"--resource", "resource", "Only this resource (a document id, a spoke code, a key id)"},
           {"--since", "since",
            "From this time: ISO 8601 (2026-12-07T10:00:00Z, 2026-12-07) or 15m, 24h, 7d ago"},
           {"--until", "until", "Before this time (same forms)"},
           {"--type", "type", "Only this type (auth.login) or family (auth.*)"},
           {"--outcome", "outcome", "allow, deny, success or failure"}})
    app->add_option(flag, a.filter[key], help);
}

}  // namespace

void add_audit_command(CLI::App& app) {
  static AuditArgs a;
  auto* audit = app.add_subcommand("audit", "The instance's tamper-evident audit trail (docs/AUDIT.md)");
  audit->add_option("--instance", a.instance, "Instance code (default: the hub)");
  add_filter_options(audit, a);
  audit->add_option("--limit", a.filter["limit"], "At most this many records (default 50)");
  audit->add_flag("--json", a.json, "Machine-readable output");

  auto* exp = audit->add_subcommand("export", "Every matching record, oldest first, as JSON lines or CSV");
  exp->add_option("--instance", a.instance, "Instance code (default: the hub)");
  add_filter_options(exp, a);
  exp->add_option("--format", a.format, "jsonl (default) or csv");
  exp->add_option("--out", a.out, "Write to this file (default: standard output)");
  exp->callback([] { run_export(a); });

  auto* verify = audit->add_subcommand("verify", "Walk the whole hash chain; name the first broken link");
  verify->add_option("--instance", a.instance, "Instance code (default: the hub)");
  verify->add_option("--expect", a.expect,
                     "A head kept earlier, SEQ:HASH as verify printed it (repeatable): fail unless the chain "
                     "still reaches it");
  verify->add_flag("--json", a.json, "Machine-readable output");
  verify->callback([] { run_verify(a); });

  auto* prune =
      audit->add_subcommand("prune", "Remove records older than the retention (audit.retention_days)");
  prune->add_option("--instance", a.instance, "Instance code (default: the hub)");
  prune->add_option("--days", a.days, "Retention in days (default: instance.json audit.retention_days, 365)");
  prune->callback([] { run_prune(a); });

  audit->callback([audit] {
    if (!audit->get_subcommands().empty()) return;
    run_query(a);
  });
}

}  // namespace dive::cli
