// Backup and restore of a live hub (docs/BACKUP.md), with real processes: a hub and a spoke of its home are
// deployed (test profile), a user is revoked, a backup is taken while a load reads, lists, requests keys and
// uploads, the home is nuked, and the backup is restored into a new $DIVE_HOME at the same ports (another
// machine). Before that, a wrong passphrase, a flipped byte, a truncated file and a schema newer than this
// binary are each refused by `restore` with nothing left behind (no instance folder, no CA, no staging, no
// process), and by `backup verify`. After it: the same users (password hashes, OTP seeds), KAS and signing
// keys, every upload acknowledged before the backup started decrypting for its uploader, the revoked user
// still refused, a token issued before the backup still accepted, the spoke's registration in the hub's
// registry.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "api_client.hpp"
#include "backup/archive.hpp"
#include "common/encoding.hpp"
#include "dive_cli.hpp"
#include "load_driver.hpp"
#include "orchestrator/backup.hpp"
#include "orchestrator/port_probe.hpp"
#include "servers.hpp"
#include "store/local_postgres.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {

const std::string kPassphrase = "backup test passphrase, long enough";

std::string slurp(const fs::path& p) {
  return read_file(p);
}

void spit(const fs::path& p, const std::string& s) {
  write_file_atomic(p, s, 0600);
}

// Digest of what must survive a restore unchanged: users' password hashes and OTP seeds, KAS and signing
// keys, the federation registry.
std::map<std::string, std::string> identity_digest(const DiveCli& cli) {
  const Json sec = Json::parse(slurp(cli.home() / "instances" / "usa" / "secrets.json"));
  pqxx::connection c(store::pg_conninfo("127.0.0.1", static_cast<uint16_t>(cli.port("USA", "postgres")),
                                        "dive", "dive", sec.at("postgres_password"), 5));
  pqxx::nontransaction tx(c);
  std::map<std::string, std::string> out;
  const std::map<std::string, std::string> queries{
      {"users",
       "SELECT username || ':' || password_hash || ':' || coalesce(totp_secret_enc, '') FROM idp_users"},
      {"kas_keys", "SELECT kid || ':' || private_key_enc FROM kas_keys"},
      {"signing_keys", "SELECT kid || ':' || coalesce(private_key_enc, '') FROM idp_signing_keys"},
      {"spokes", "SELECT code || ':' || status FROM federation_spokes"}};
  for (const auto& [name, q] : queries)
    out[name] =
        tx.exec("SELECT count(*)::text || '/' || md5(coalesce(string_agg(x, '|' ORDER BY x), '')) FROM (" +
                q + ") AS t(x)")[0][0]
            .c_str();
  return out;
}

// Processes whose command line names `dir` (a restore must leave none behind).
std::vector<std::string> processes_under(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    auto cmd = try_read_file(e.path() / "cmdline");
    if (!cmd) continue;
    for (auto& ch : *cmd)
      if (ch == '\0') ch = ' ';
    if (cmd->find(dir.string()) != std::string::npos) out.push_back(pid + ": " + *cmd);
  }
  return out;
}

void expect_nothing_restored(const DiveCli& b, const std::string& what) {
  EXPECT_FALSE(fs::exists(b.home() / "instances" / "usa")) << what;
  EXPECT_FALSE(fs::exists(b.home() / "ca")) << what;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(b.home(), ec))
    EXPECT_NE(e.path().filename().string().rfind(".restore-", 0), 0u)
        << what << ": staging left: " << e.path();
  EXPECT_TRUE(processes_under(b.home()).empty()) << what << ": " << processes_under(b.home()).front();
  EXPECT_TRUE(orch::port_free(b.port("USA", "postgres"))) << what;
}

// The backup with its manifest's schema revision raised past this binary's (everything else as it was).
std::string with_newer_schema(const std::string& file) {
  struct Collect : backup::ArchiveSink {
    Json manifest_json;
    std::vector<std::pair<std::string, std::string>> members;
    void manifest(const backup::Manifest& m) override { manifest_json = m.json; }
    void begin(const backup::Member& m) override { members.emplace_back(m.name, ""); }
    void data(std::string_view b) override { members.back().second.append(b); }
    void end(const backup::Member&) override {}
  } sink;
  std::istringstream in(file);
  backup::ContainerReader reader(in, kPassphrase);
  backup::read_archive(reader, sink);
  sink.manifest_json["schema_revision"] = orch::known_schema_revision() + 1;
  const auto manifest = backup::Manifest::from_json(sink.manifest_json);
  std::ostringstream out;
  backup::ContainerWriter c(out, kPassphrase, backup::KdfParams::for_tests());
  backup::ArchiveWriter w(c, manifest);
  for (const auto& [name, bytes] : sink.members) {
    std::istringstream m(bytes);
    w.add(name, m);
  }
  w.finish();
  c.finish();
  return out.str();
}

int status_of(const ApiClient& api, const std::string& token) {
  return api.call("api", "GET", "/api/auth/me", token).status;
}

}  // namespace

TEST(BackupRestore, ALiveHubBackedUpUnderLoadComesBackWholeInANewHome) {
  TempDir files("dive-backup-files");
  const fs::path pass = files.path() / "passphrase", wrong = files.path() / "wrong";
  spit(pass, kPassphrase + "\n");
  spit(wrong, "not the passphrase at all\n");
  const fs::path bak = files.path() / "usa.divebak";
  fs::permissions(files.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);

  auto a = std::make_unique<DiveCli>(std::vector<std::string>{"USA", "TST"});
  const int shift = a->shift();
  auto r = a->run({"hub", "deploy", "--profile", "test"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = a->run({"spoke", "deploy", "TST", "--profile", "test"});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  ApiClient api_a(*a, "USA");
  // Revoked before the backup: testuser-usa-2's token (its user revoked by the logout). A token of
  // testuser-usa-1 issued before the backup and never revoked is the control.
  const Json revoked = api_a.login("testuser-usa-2");
  const Json control = api_a.login("testuser-usa-1");
  ASSERT_TRUE(revoked.is_object() && control.is_object());
  const std::string revoked_token = revoked["access_token"], control_token = control["access_token"];
  ASSERT_EQ(api_a.call("api", "POST", "/api/auth/logout", revoked_token).status, 200);
  ASSERT_EQ(status_of(api_a, revoked_token), 401);
  ASSERT_EQ(status_of(api_a, control_token), 200);

  LoadOptions lo;
  lo.workers = 2;
  LoadDriver load(*a, api_a, lo);
  ASSERT_TRUE(load.prepare());
  load.start();
  ASSERT_TRUE(wait_until([&] { return load.acknowledged_writes() >= 3 && load.count() >= 40; }, 60s));

  const auto before = identity_digest(*a);
  const auto acknowledged = load.acknowledged_uploads();  // all acknowledged before the backup starts
  const auto backup_started = std::chrono::system_clock::now();
  r = a->run({"hub", "backup", "--out", bak.string(), "--passphrase-file", pass.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t during = load.count();
  ASSERT_TRUE(wait_until([&] { return load.count() >= during + 20; }, 30s));  // it kept serving
  load.stop();
  EXPECT_TRUE(load.expect_clean(0ms)) << "the load failed while the backup was taken";

  const Json summary = Json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(summary["file"], bak.string());
  EXPECT_EQ(summary["bytes"], fs::file_size(bak));
  EXPECT_GE(summary["documents"].get<int64_t>(), 50 + static_cast<int64_t>(acknowledged.size()));
  EXPECT_EQ(summary["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ((fs::status(bak).permissions() & fs::perms::all), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(files.path()).permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                fs::perms::others_exec)
      << "the folder of --out keeps its mode";
  const std::string good = slurp(bak);
  EXPECT_EQ(good.find(kPassphrase), std::string::npos);
  EXPECT_EQ(good.find("testuser-usa"), std::string::npos) << "plaintext in the backup file";

  // verify: a good file passes and says what is inside.
  r = a->run({"backup", "verify", bak.string(), "--passphrase-file", pass.string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("backup of USA (hub)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("verified: every chunk"), std::string::npos) << r.output;

  // Lose the machine.
  r = a->run({"nuke", "all", "--confirm"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  a.reset();

  auto b = std::make_unique<DiveCli>(std::vector<std::string>{"USA"}, shift);
  // Bad files: each refused by restore with nothing left behind, and by verify.
  std::string flipped = good;
  flipped[backup::kHeaderBytes + flipped.size() / 3] ^= 0x20;
  const std::vector<std::tuple<std::string, std::string, fs::path, std::string>> bad{
      {"wrong passphrase", good, wrong, "wrong passphrase"},
      {"flipped byte", flipped, pass, "fails authentication"},
      {"truncated", good.substr(0, good.size() - 1000), pass, "truncated"},
      {"newer schema", with_newer_schema(good), pass, "newer than this dive knows"}};
  for (const auto& [what, bytes, passfile, message] : bad) {
    const fs::path f = files.path() / "bad.divebak";
    spit(f, bytes);
    r = b->run({"restore", f.string(), "--passphrase-file", passfile.string()});
    EXPECT_EQ(r.exit_code, 1) << what << ":\n" << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << what << ":\n" << r.output;
    expect_nothing_restored(*b, what);
    r = b->run({"backup", "verify", f.string(), "--passphrase-file", passfile.string()});
    EXPECT_EQ(r.exit_code, 1) << what << ":\n" << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << what << ":\n" << r.output;
  }

  // The good file, into the new home at the same ports.
  r = b->run({"restore", bak.string(), "--passphrase-file", pass.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json restored = Json::parse(r.output.substr(r.output.find("{\n")));
  EXPECT_TRUE(restored["ok"].get<bool>()) << restored.dump();
  EXPECT_EQ(restored["documents"], summary["documents"]);
  EXPECT_EQ(identity_digest(*b), before);
  r = b->run({"hub", "verify"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // The audit trail came back whole: its chain verifies from the anchor to the head, across its partitions,
  // and the restored services go on appending to it.
  r = b->run({"audit", "verify"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("intact"), std::string::npos) << r.output;

  ApiClient api_b(*b, "USA");
  // Revocations held: the token whose user was revoked before the backup is still refused; one issued before
  // the backup and never revoked still passes (same issuer, same signing keys).
  EXPECT_EQ(status_of(api_b, revoked_token), 401);
  EXPECT_EQ(status_of(api_b, control_token), 200);

  // The same users with the same passwords and OTP seeds: a one-time code is accepted once per 30 s step and
  // the restored idp remembers the last step each user used, so log in from the next step on.
  const auto step = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count() / 30;
  };
  ASSERT_TRUE(wait_until([&] { return step(std::chrono::system_clock::now()) > step(backup_started); }, 35s));
  ASSERT_FALSE(acknowledged.empty());
  for (const auto& w : acknowledged) {
    const std::string token = api_b.token(w.user, w.otp);
    ASSERT_FALSE(token.empty()) << w.user;
    auto read = api_b.call("api", "GET", "/api/resources/" + w.id, token);
    EXPECT_EQ(read.status, 200) << w.id << " " << read.body.dump();
    auto key = api_b.call("api", "POST", "/api/resources/" + w.id + "/key", token, Json::object());
    ASSERT_EQ(key.status, 200) << w.id << " " << key.body.dump();
    EXPECT_EQ(base64_decode(key.body.value("content", "")).value_or(""), w.plaintext) << w.id;
  }
  // The revoked user can sign in again (a revocation ends tokens, not accounts).
  const Json again = api_b.login("testuser-usa-2");
  ASSERT_TRUE(again.is_object());
  EXPECT_EQ(status_of(api_b, again["access_token"]), 200);

  // The federation registration: the spoke is in the restored hub's registry.
  const Json spokes = b->run_json({"hub", "spokes", "--json"});
  bool tst = false;
  for (const auto& s : spokes.is_array() ? spokes : spokes.value("spokes", Json::array()))
    tst |= s.value("code", "") == "TST";
  EXPECT_TRUE(tst) << spokes.dump();

  // The restored instance is in the way of another restore.
  r = b->run({"restore", bak.string(), "--passphrase-file", pass.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("USA is already in"), std::string::npos) << r.output;

  // Another machine under another name: --host gives new URLs, issuer and certificate (signed by the restored
  // CA); the documents' key access objects still name the old kas address and are answered by the new one.
  b.reset();
  auto c = std::make_unique<DiveCli>(std::vector<std::string>{"USA"}, shift);
  r = c->run({"restore", bak.string(), "--passphrase-file", pass.string(), "--host", "127.0.0.2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(c->instance_config("USA")["urls"]["api"].get<std::string>().rfind("https://127.0.0.2:", 0), 0u);
  ApiClient api_c(*c, "USA");
  const auto& w = acknowledged.front();
  const std::string token = api_c.token(w.user, w.otp);
  ASSERT_FALSE(token.empty());
  auto key = api_c.call("api", "POST", "/api/resources/" + w.id + "/key", token, Json::object());
  ASSERT_EQ(key.status, 200) << key.body.dump();
  EXPECT_EQ(base64_decode(key.body.value("content", "")).value_or(""), w.plaintext);
}
