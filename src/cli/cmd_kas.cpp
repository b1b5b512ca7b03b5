// ./dive hub kas rotate-key | kas keys [--json]     and     ./dive spoke kas rotate-key <CODE> | kas keys
// <CODE> The instance's KAS key pairs, in its database: a rotation makes a new active key (new documents are
// wrapped to it) and keeps the old ones for unwrapping; the kas picks the new key up within 30 s.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <pqxx/pqxx>

#include "cli/admin_audit.hpp"
#include "cli/context.hpp"
#include "documents/kas_keys.hpp"
#include "orchestrator/ports.hpp"

namespace dive::cli {

namespace {

struct KasArgs {
  bool hub = true;
  std::string code;
  bool json = false;
  std::string resolved() const { return hub ? std::string(orch::kHubCode) : parse_spoke_code(code); }
};

struct Instance {
  pqxx::connection conn;
  std::string kek;
};

Instance open_instance(const std::string& code) {
  auto paths = ctx().layout.instance(code);
  if (!std::filesystem::exists(paths.instance_json))
    throw UsageError(code + " is not deployed here (" + ctx().layout.home.string() + ")");
  Json secrets = orch::read_secrets(paths);
  return Instance{pqxx::connection(orch::instance_db_conninfo(paths)),
                  documents::decode_key_encryption_key(secrets.value("kas_key_encryption_key", ""))};
}

void list_keys(const KasArgs& a) {
  auto inst = open_instance(a.resolved());
  Json all = Json::array();
  for (const auto& k : documents::load_kas_keys(inst.conn, inst.kek, false))
    all.push_back(Json{{"kid", k.kid},
                       {"active", k.active},
                       {"bits", k.public_key.bits()},
                       {"fingerprint", k.public_key.fingerprint()}});
  if (a.json) {
    std::printf("%s\n", all.dump(2).c_str());
    return;
  }
  for (const auto& k : all)
    std::printf("%-22s %s  RSA-%d  sha256:%s\n", k["kid"].get<std::string>().c_str(),
                k["active"].get<bool>() ? "active " : "retired", k["bits"].get<int>(),
                k["fingerprint"].get<std::string>().substr(0, 16).c_str());
}

void add_kas_commands(CLI::App& family, bool hub) {
  static std::vector<std::unique_ptr<KasArgs>> storage;
  storage.push_back(std::make_unique<KasArgs>());
  KasArgs* a = storage.back().get();
  a->hub = hub;
  auto* kas = family.add_subcommand("kas", "The instance's key access service key pairs");
  kas->require_subcommand(1);
  auto* keys = kas->add_subcommand("keys", "List the KAS key pairs (active and retired)");
  auto* rotate = kas->add_subcommand("rotate-key",
                                     "New active KAS key pair; old ones stay for unwrapping older documents");
  for (auto* sub : {keys, rotate})
    if (!hub) sub->add_option("CODE", a->code, "Spoke instance code, e.g. FRA")->required();
  keys->add_flag("--json", a->json, "Machine-readable output");
  keys->callback([a] { list_keys(*a); });
  rotate->callback([a] {
    auto inst = open_instance(a->resolved());
    documents::ensure_active_kas_key(inst.conn, inst.kek);  // the first key, if there is none yet
    std::string kid = documents::rotate_kas_key(inst.conn, inst.kek);
    record_admin(a->resolved(), admin_event("admin.key_rotation", kid, true, "new active KAS key pair",
                                            audit::details(Json{{"key", "kas"}})));
    ctx().out.ok(a->resolved() + ": new active KAS key " + kid +
                 " (older keys kept for unwrapping; the kas picks it up within 30 s)");
  });
}

}  // namespace

void add_kas_commands(CLI::App& app) {
  add_kas_commands(*app.get_subcommand("hub"), true);
  add_kas_commands(*app.get_subcommand("spoke"), false);
}

}  // namespace dive::cli
