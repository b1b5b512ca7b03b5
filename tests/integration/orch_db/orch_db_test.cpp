// The orchestration database against a real PostgreSQL: validated transitions, the deployment lock held
// by one session, the persisted breaker surviving a "restart" (a new connection), rollback, validation.
#include "orchestrator/orch_db.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <pqxx/pqxx>
#include <thread>

#include "servers.hpp"

using namespace dive;
using namespace dive::orch;
using namespace std::chrono_literals;

class OrchDbTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = new dive::testing::TestPostgres();
    conninfo_ = pg_->create_database("orchestration");
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  // The persisted breaker measures its cooldown with the database's now() against last_failure_time: moving
  // the recorded failure back by `by` is the database's equivalent of advancing a fake clock (no sleeping).
  static void age_last_failure(const std::string& op, std::chrono::seconds by) {
    pqxx::connection c(conninfo_);
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(
        "UPDATE circuit_breakers SET last_failure_time = last_failure_time - make_interval(secs => $2) "
        "WHERE operation_name = $1 AND last_failure_time IS NOT NULL",
        op, static_cast<double>(by.count()));
    ASSERT_EQ(r.affected_rows(), 1u) << "no recorded failure for " << op;
  }
  static dive::testing::TestPostgres* pg_;
  static std::string conninfo_;
};
dive::testing::TestPostgres* OrchDbTest::pg_ = nullptr;
std::string OrchDbTest::conninfo_;

TEST_F(OrchDbTest, ValidTransitionsAreRecordedWithHistory) {
  OrchDb db(conninfo_);
  EXPECT_EQ(db.current_state("AAA"), DeployState::Unknown);
  for (auto s : {DeployState::Initializing, DeployState::Deploying, DeployState::Configuring,
                 DeployState::Verifying, DeployState::Complete})
    db.set_state("AAA", s, "test");
  EXPECT_EQ(db.current_state("AAA"), DeployState::Complete);
  pqxx::connection c(conninfo_);
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM state_transitions WHERE instance_code = 'AAA'")[0][0].as<int>(), 5);
  EXPECT_EQ(tx.exec("SELECT previous_state FROM deployment_states WHERE instance_code = 'AAA' ORDER BY id "
                    "DESC LIMIT 1")[0][0]
                .as<std::string>(),
            "VERIFYING");
  EXPECT_EQ(tx.exec("SELECT count(*) FROM orchestration_metrics WHERE instance_code = 'AAA'")[0][0].as<int>(),
            5);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM orchestration_metrics WHERE instance_code IS NULL")[0][0].as<int>(),
            0);
}

TEST_F(OrchDbTest, AnInvalidTransitionIsRefusedAndRecordedAsAnError) {
  OrchDb db(conninfo_);
  db.set_state("BBB", DeployState::Initializing, "test");
  EXPECT_THROW(db.set_state("BBB", DeployState::Complete, "skip ahead"), InvalidTransition);
  EXPECT_EQ(db.current_state("BBB"), DeployState::Initializing);
  pqxx::connection c(conninfo_);
  pqxx::nontransaction tx(c);
  auto r = tx.exec("SELECT error_code, message FROM orchestration_errors WHERE instance_code = 'BBB'");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0][0].as<std::string>(), "1505");
  EXPECT_NE(r[0][1].as<std::string>().find("INITIALIZING -> COMPLETE"), std::string::npos);
  // The database refuses it too, whoever writes.
  EXPECT_THROW(tx.exec("INSERT INTO state_transitions (instance_code, from_state, to_state) VALUES "
                       "('BBB','INITIALIZING','COMPLETE')"),
               pqxx::sql_error);
}

TEST_F(OrchDbTest, TheDeployLockIsHeldByOneSessionUntilReleased) {
  auto a = std::make_unique<OrchDb>(conninfo_);
  OrchDb b(conninfo_);
  ASSERT_TRUE(a->acquire_deploy_lock("CCC", 0ms));
  std::string holder;
  EXPECT_FALSE(b.acquire_deploy_lock("CCC", 500ms, &holder));
  EXPECT_NE(holder.find("pid"), std::string::npos) << holder;
  EXPECT_TRUE(b.acquire_deploy_lock("DDD", 0ms)) << "locks are per instance";
  a.reset();  // the session ends (a deploy finishing or dying): the lock goes with it
  EXPECT_TRUE(b.acquire_deploy_lock("CCC", 2000ms));
  pqxx::connection c(conninfo_);
  pqxx::nontransaction tx(c);
  EXPECT_EQ(
      tx.exec(
            "SELECT count(*) FROM deployment_locks WHERE instance_code = 'CCC' AND released_at IS NULL")[0][0]
          .as<int>(),
      1);
  b.release_deploy_lock("CCC");
  EXPECT_EQ(
      tx.exec(
            "SELECT count(*) FROM deployment_locks WHERE instance_code = 'CCC' AND released_at IS NULL")[0][0]
          .as<int>(),
      0);
}

TEST_F(OrchDbTest, ThePersistedBreakerOpensSurvivesARestartAndRecovers) {
  {
    OrchDb db(conninfo_);
    for (int i = 0; i < 4; ++i) {
      EXPECT_TRUE(db.breaker_check("deploy:EEE", 5, 1s).allowed);
      db.breaker_failure("deploy:EEE", 5, "port in use");
    }
    EXPECT_TRUE(db.breaker_check("deploy:EEE", 5, 1s).allowed);
    db.breaker_failure("deploy:EEE", 5, "port in use");
  }
  OrchDb fresh(conninfo_);  // a new CLI process: the state comes from the database
  auto c = fresh.breaker_check("deploy:EEE", 5, 1s);
  EXPECT_FALSE(c.allowed);
  EXPECT_EQ(c.state, "OPEN");
  EXPECT_EQ(c.failures, 5);
  EXPECT_GT(c.retry_after.count(), 0);
  EXPECT_LE(c.retry_after.count(), 1000);
  age_last_failure("deploy:EEE", 1s);  // the cooldown has passed
  auto h = fresh.breaker_check("deploy:EEE", 5, 1s);
  EXPECT_TRUE(h.allowed);
  EXPECT_EQ(h.state, "HALF_OPEN");
  fresh.breaker_failure("deploy:EEE", 5, "still failing");  // a failed trial re-opens at once
  auto reopened = fresh.breaker_check("deploy:EEE", 5, 1s);
  EXPECT_FALSE(reopened.allowed);
  EXPECT_EQ(reopened.state, "OPEN");
  age_last_failure("deploy:EEE", 1s);
  EXPECT_TRUE(fresh.breaker_check("deploy:EEE", 5, 1s).allowed);
  fresh.breaker_success("deploy:EEE");
  auto closed = fresh.breaker_check("deploy:EEE", 5, 1s);
  EXPECT_EQ(closed.state, "CLOSED");
  EXPECT_EQ(closed.failures, 0);
}

TEST_F(OrchDbTest, RollbackReturnsToThePreviousStateAndIsMarked) {
  OrchDb db(conninfo_);
  db.set_state("FFF", DeployState::Initializing, "t");
  db.set_state("FFF", DeployState::Deploying, "t");
  auto [from, to] = db.rollback("FFF");
  EXPECT_EQ(from, DeployState::Deploying);
  EXPECT_EQ(to, DeployState::Initializing);
  EXPECT_EQ(db.current_state("FFF"), DeployState::Initializing);
  EXPECT_THROW(db.rollback("ZZZ"), std::runtime_error);
  auto v = db.validate(std::string("FFF"));
  EXPECT_TRUE(v["ok"].get<bool>()) << v.dump();
}

TEST_F(OrchDbTest, ValidateFindsAStateThatDisagreesWithItsTransitions) {
  OrchDb db(conninfo_);
  db.set_state("GGG", DeployState::Initializing, "t");
  pqxx::connection c(conninfo_);
  pqxx::nontransaction tx(c);
  tx.exec(
      "INSERT INTO deployment_states (instance_code, state, previous_state) VALUES ('GGG', 'COMPLETE', "
      "'INITIALIZING')");
  auto v = db.validate(std::string("GGG"));
  EXPECT_FALSE(v["ok"].get<bool>());
  EXPECT_NE(v["findings"].dump().find("does not match"), std::string::npos);
  auto all = db.status_report();
  EXPECT_GE(all["tables"]["deployment_states"].get<int>(), 1);
  EXPECT_EQ(all["schemaVersion"], 1);
}

TEST_F(OrchDbTest, MigrationsAreAppliedOnceByConcurrentStarters) {
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      OrchDb db(conninfo_);
      ++ok;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok, 4);
  pqxx::connection c(conninfo_);
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM schema_migrations")[0][0].as<int>(), 1);
}

TEST_F(OrchDbTest, TheMonitoringSnapshotHasEachInstancesLastDeployAndTheBreakers) {
  OrchDb db(conninfo_);
  for (auto s : {DeployState::Initializing, DeployState::Deploying, DeployState::Configuring,
                 DeployState::Verifying, DeployState::Complete})
    db.set_state("MOA", s, "test");
  // A redeploy of MOA that fails in DEPLOYING: the last finished deploy is the failure.
  db.set_state("MOA", DeployState::Initializing, "again");
  db.set_state("MOA", DeployState::Failed, "DEPLOYING: boom");
  db.breaker_failure("deploy:MOA", 1, "boom");
  db.record_error("MOA", errc::kServiceStart, 2, "deploying", "boom");
  db.set_state("MOB", DeployState::Initializing, "in progress, never finished");
  pqxx::connection c(conninfo_);
  Json snap = OrchDb::monitoring_snapshot(c);
  Json moa, mob;
  for (const auto& d : snap["deployments"]) {
    if (d["instance_code"] == "MOA") moa = d;
    if (d["instance_code"] == "MOB") mob = d;
  }
  ASSERT_FALSE(moa.is_null()) << snap.dump();
  EXPECT_EQ(moa["state"], "FAILED");
  EXPECT_EQ(moa["last_result"], "FAILED");
  EXPECT_GT(moa["last_duration_seconds"].get<double>(), 0.0);  // clock_timestamp(): the later row is later
  EXPECT_LT(moa["last_duration_seconds"].get<double>(), 60);
  EXPECT_GT(moa["last_finished_seconds"].get<double>(), 1.7e9);
  ASSERT_FALSE(mob.is_null());
  EXPECT_EQ(mob["state"], "INITIALIZING");
  EXPECT_FALSE(mob.contains("last_result"));  // nothing finished yet
  bool breaker = false;
  for (const auto& b : snap["breakers"])
    if (b["operation"] == "deploy" && b["instance_code"] == "MOA") {
      breaker = true;
      EXPECT_EQ(b["state"], "OPEN");  // threshold 1
      EXPECT_EQ(b["failures"], 1);
    }
  EXPECT_TRUE(breaker) << snap.dump();
  bool errors = false;
  for (const auto& e : snap["errors"])
    if (e["instance_code"] == "MOA") errors = e["unresolved"].get<int>() >= 1;
  EXPECT_TRUE(errors) << snap.dump();
}
