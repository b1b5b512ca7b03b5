// Upgrades and graceful restarts of a running hub (docs/ORCHESTRATION.md, "Upgrades"): `hub upgrade` under
// the load driver fails no request (every service replaced by a new process on the same listening socket),
// and a database whose schema is newer than the binary is refused — by the upgrade before it changes
// anything, and by a service, which then never replaces the one that serves.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "dive_cli.hpp"
#include "load_driver.hpp"
#include "servers.hpp"
#include "store/local_postgres.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

class Upgrade : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cli_ = std::make_unique<DiveCli>(std::vector<std::string>{"USA"});
    auto r = cli_->run({"hub", "deploy", "--profile", "test"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() { cli_.reset(); }

  static std::map<std::string, int64_t> service_pids() {
    std::map<std::string, int64_t> out;
    for (const char* svc : {"pdp", "idp", "kas", "api", "web"}) {
      Json s = cli_->service_status("USA", svc);
      out[svc] = s["pid"].is_number_integer() ? s["pid"].get<int64_t>() : 0;
    }
    return out;
  }

  // The instance database as its owner.
  static std::unique_ptr<pqxx::connection> owner_db() {
    Json cfg = cli_->instance_config("USA");
    Json secrets = Json::parse(read_file(cli_->home() / "instances" / "usa" / "secrets.json"));
    return std::make_unique<pqxx::connection>(
        store::pg_conninfo("127.0.0.1", static_cast<uint16_t>(cfg["ports"]["postgres"].get<int>()), "dive",
                           "dive", secrets["postgres_password"].get<std::string>()));
  }

  static std::unique_ptr<DiveCli> cli_;
};
std::unique_ptr<DiveCli> Upgrade::cli_;

TEST_F(Upgrade, UnderReadAndUploadLoadNoRequestFails) {
  LoadDriver load(*cli_);
  ASSERT_TRUE(load.prepare());
  const auto before = service_pids();
  load.start();
  ASSERT_TRUE(wait_until([&] { return load.count() >= 100; }, 30s)) << "the load did not start";

  // With the pre-upgrade backup, as an operator runs it.
  const fs::path passphrase = cli_->home() / "backup-passphrase";
  write_file_atomic(passphrase, "correct horse battery staple\n", 0600);
  auto r = cli_->run({"hub", "upgrade", "--passphrase-file", passphrase.string(), "--json"}, 300s);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Json summary = Json::parse(r.output.substr(r.output.find('{')));
  EXPECT_TRUE(summary["ok"].get<bool>()) << summary.dump(2);
  ASSERT_TRUE(summary["backup"].is_string()) << summary.dump(2);
  auto verified = cli_->run(
      {"backup", "verify", summary["backup"].get<std::string>(), "--passphrase-file", passphrase.string()});
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  ASSERT_EQ(summary["services"].size(), 5u) << summary.dump(2);
  for (const Json& s : summary["services"]) {
    EXPECT_TRUE(s["graceful"].get<bool>()) << s.dump();
    EXPECT_NE(s["newPid"], s["oldPid"]) << s.dump();
  }
  EXPECT_EQ(summary["schemaAfter"], summary["schemaBefore"]);  // this binary's schema: nothing to migrate
  // The upgrade is in the instance's audit trail, with the operator as the actor.
  Json audited = cli_->run_json({"audit", "--type", "admin.upgrade", "--json"});
  ASSERT_TRUE(audited.is_array() && !audited.empty()) << audited.dump();
  EXPECT_EQ(audited.back()["outcome"], "success") << audited.back().dump();

  // The load goes on a little after the last replacement, then every answer is checked.
  const size_t at_end = load.count();
  ASSERT_TRUE(wait_until([&] { return load.count() >= at_end + 100; }, 30s));
  load.stop();
  const auto after = service_pids();
  for (const auto& [svc, pid] : before) EXPECT_NE(after.at(svc), pid) << svc << " was not replaced";

  // No fault window: any answer other than the one the table states (a 503 too) fails the run.
  EXPECT_TRUE(load.expect_clean(0ms));
  size_t failed = 0;
  for (const auto& s : load.samples()) failed += !s.ok;
  std::printf("upgrade under load: %zu requests, %zu failed, %zu acknowledged uploads\n", load.count(),
              failed, load.acknowledged_writes());
  EXPECT_EQ(failed, 0u);
  EXPECT_GT(load.verify_acknowledged_writes(), 0);
}

TEST_F(Upgrade, ASchemaNewerThanTheBinaryIsRefusedAndTheServingProcessStays) {
  auto db = owner_db();
  {
    pqxx::work tx(*db);
    tx.exec("INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'from_the_future', 'x')");
    tx.commit();
  }
  struct Cleanup {
    pqxx::connection& db;
    ~Cleanup() {
      pqxx::work tx(db);
      tx.exec("DELETE FROM schema_migrations WHERE version = 999");
      tx.commit();
    }
  } cleanup{*db};
  const auto before = service_pids();

  // The upgrade refuses before it changes anything (and a missing passphrase is a usage error first).
  auto no_passphrase = cli_->run({"hub", "upgrade"}, 60s);
  EXPECT_EQ(no_passphrase.exit_code, 64) << no_passphrase.output;
  auto r = cli_->run({"hub", "upgrade", "--no-backup"}, 120s);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("schema is at version 999, newer than this binary knows"), std::string::npos)
      << r.output;
  EXPECT_EQ(service_pids(), before);

  // A restart starts a new api beside the old one; the new one refuses to run against this schema, so the
  // old one keeps serving and the restart says why.
  r = cli_->run({"hub", "restart", "api"}, 120s);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("graceful restart failed"), std::string::npos) << r.output;
  EXPECT_EQ(service_pids().at("api"), before.at("api"));
  auto log = read_file(cli_->home() / "instances" / "usa" / "logs" / "api.log");
  EXPECT_NE(log.find("api refuses to start: the database's schema is at version 999"), std::string::npos);
  auto health = cli_->https_get(cli_->port("USA", "api"), "/health/ready");
  EXPECT_EQ(health.first, 200) << health.second;
}
