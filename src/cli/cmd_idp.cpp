// ./dive hub users [--json] | users otp <username> | keys rotate
// ./dive spoke users <CODE> [--json] | users otp <CODE> <username> | keys rotate <CODE>
// They work on the instance's database directly (the idp picks up a rotated key within a second).
#include <cstdio>
#include <memory>
#include <pqxx/pqxx>

#include "cli/admin_audit.hpp"
#include "cli/context.hpp"
#include "cli/idp_commands.hpp"
#include "common/strings.hpp"
#include "identity/idp/idp_config.hpp"
#include "identity/idp/key_store.hpp"
#include "identity/idp/totp.hpp"
#include "identity/idp/totp_seed.hpp"
#include "identity/idp/user_store.hpp"
#include "orchestrator/ports.hpp"

namespace dive::cli {

namespace {

struct IdpArgs {
  bool hub = true;
  std::string code, username;
  bool json = false;
  std::string resolved() const { return hub ? std::string(orch::kHubCode) : parse_spoke_code(code); }
};

pqxx::connection connect(const std::string& code) {
  return pqxx::connection(orch::instance_db_conninfo(ctx().layout.instance(code)));
}

std::string kek_of(const std::string& code) {
  Json s = orch::read_secrets(ctx().layout.instance(code));
  return identity::idp::decode_kek(s.value("idp_key_encryption_key", ""));
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void list_users(const IdpArgs& a) {
  std::string code = a.resolved();
  auto conn = connect(code);
  Json all = Json::array();
  for (const auto& u : identity::idp::list_users(conn))
    all.push_back(identity::idp::user_summary(u, now_ms()));
  if (a.json) {
    std::printf("%s\n", all.dump(2).c_str());
    return;
  }
  std::printf("%-22s %-13s %-4s %-28s %-24s %-4s %s\n", "USERNAME", "CLEARANCE", "CTRY", "COI", "ROLES",
              "TOTP", "STATE");
  for (const auto& u : all) {
    auto list = [](const Json& j) { return join(j.get<std::vector<std::string>>(), ","); };
    std::string state = !u["enabled"].get<bool>() ? "disabled"
                        : u["locked"].get<bool>() ? "locked"
                                                  : "active";
    std::printf("%-22s %-13s %-4s %-28s %-24s %-4s %s\n", u["username"].get<std::string>().c_str(),
                u["clearance"].get<std::string>().c_str(),
                u["countryOfAffiliation"].get<std::string>().c_str(), list(u["acpCOI"]).c_str(),
                list(u["roles"]).c_str(), u["totp"].get<bool>() ? "yes" : "no", state.c_str());
  }
  std::printf("%zu user(s) in realm dive-v3-broker-%s\n", all.size(), to_lower(code).c_str());
}

void print_otp(const IdpArgs& a) {
  std::string code = a.resolved();
  Json cfg = orch::read_instance_config(ctx().layout.instance(code));
  std::string profile = cfg.value("profile", "");
  if (profile != "dev" && profile != "test")
    throw std::runtime_error("refused: one-time codes are printed only for dev or test instances (" + code +
                             " has profile '" + profile + "')");
  auto conn = connect(code);
  auto user = identity::idp::find_user_by_username(conn, to_lower(a.username));
  if (!user) throw std::runtime_error("no user '" + a.username + "' in " + code);
  if (!user->totp_secret_enc) throw std::runtime_error(user->username + " has no TOTP enrolled");
  std::string seed = identity::idp::decrypt_totp_seed(*user->totp_secret_enc, kek_of(code), user->username);
  // Reading a user's one-time code is acting as that user's second factor: on the record (never the code).
  record_admin(code, admin_event("admin.user_otp", user->attrs.unique_id, true,
                                 "the current one-time code of " + user->username + " shown to the operator",
                                 audit::details(Json{{"username", user->username}, {"profile", profile}})));
  int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::printf("%s\n", identity::idp::totp_code(seed, now).c_str());
}

void rotate_keys(const IdpArgs& a) {
  std::string code = a.resolved();
  auto conn = connect(code);
  std::string kid = identity::idp::rotate_signing_key(conn, kek_of(code));
  record_admin(code, admin_event("admin.key_rotation", kid, true, "new active token-signing key",
                                 audit::details(Json{{"key", "signing"}})));
  ctx().out.ok(code + ": new signing key " + kid +
               " is active; the previous one stays published until its tokens have expired");
}

// Runs a command body: errors are printed and give exit code 1.
void run(const std::function<void()>& body) {
  try {
    body();
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    ctx().out.fail(e.what());
    ctx().exit_code = kFailed;
  }
}

}  // namespace

void add_idp_subcommands(CLI::App* fam, bool hub) {
  static std::vector<std::unique_ptr<IdpArgs>> storage;
  storage.push_back(std::make_unique<IdpArgs>());
  IdpArgs* a = storage.back().get();
  a->hub = hub;

  auto* users = fam->add_subcommand("users", "List the realm's users and their attributes");
  if (!hub) users->add_option("CODE", a->code, "Spoke instance code, e.g. FRA");
  users->add_flag("--json", a->json, "Machine-readable output");
  auto* otp =
      users->add_subcommand("otp", "Print a user's current one-time code (dev and test profiles only)");
  if (!hub) otp->add_option("CODE", a->code, "Spoke instance code")->required();
  otp->add_option("USERNAME", a->username, "e.g. testuser-usa-3")->required();
  otp->callback([a] { run([a] { print_otp(*a); }); });
  users->callback([a, users, otp] {
    if (users->got_subcommand(otp)) return;
    if (!a->hub && a->code.empty()) throw UsageError("spoke users needs the instance CODE");
    run([a] { list_users(*a); });
  });

  auto* keys = fam->add_subcommand("keys", "The realm's token-signing keys");
  keys->require_subcommand(1);
  auto* rotate = keys->add_subcommand("rotate", "Add a new active signing key (the old one stays published)");
  if (!hub) rotate->add_option("CODE", a->code, "Spoke instance code")->required();
  rotate->callback([a] { run([a] { rotate_keys(*a); }); });
}

}  // namespace dive::cli
