// `dive serve pdp --data FILE --port N` as a real process over HTTP: the conformance table gives the
// original's decisions (inputs of unexpected types included), bad input gets 400 and the service keeps
// serving, metrics and the decision log follow the traffic, SIGHUP reloads the bundle (a bad one is refused),
// and it listens on loopback only.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "common/encoding.hpp"
#include "common/fs.hpp"
#include "common/process.hpp"
#include "dive_cli.hpp"
#include "net/https_client.hpp"
#include "policy_conformance.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {

Json conformance() {
  return Json::parse(read_file(DIVE_POLICY_CONFORMANCE_FILE));
}

// One standalone pdp process on a free port with a given bundle file.
class Pdp {
 public:
  explicit Pdp(const Json& bundle) : dir_("dive-pdp"), port_(free_port()) {
    bundle_ = dir_.path() / "bundle.json";
    write_file_atomic(bundle_, bundle.dump());
    log_ = dir_.path() / "decisions.jsonl";
    SpawnOptions o;
    o.argv = {DiveCli::binary(),     "serve",          "pdp",        "--data", bundle_.string(), "--port",
              std::to_string(port_), "--decision-log", log_.string()};
    o.stdout_path = (dir_.path() / "pdp.log").string();
    o.parent_death_signal = SIGTERM;
    pid_ = spawn(o);
    bool up = wait_until(
        [&] {
          try {
            return get("/health").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        15s);
    if (!up) throw std::runtime_error("standalone pdp did not start: " + read_file(dir_.path() / "pdp.log"));
  }
  ~Pdp() { terminate_pid(pid_, 5s); }
  net::ClientResponse post(const std::string& path, const std::string& body) {
    net::ClientRequest r;
    r.method = "POST";
    r.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    r.body = body;
    r.headers.set("Content-Type", "application/json");
    return client_.send(r);
  }
  net::ClientResponse get(const std::string& path) {
    net::ClientRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    return client_.send(r);
  }
  void replace_bundle_text(const std::string& text) { write_file_atomic(bundle_, text); }
  void hup() { ::kill(pid_, SIGHUP); }
  std::string log_text() const { return try_read_file(log_).value_or(""); }
  std::string process_log() const { return try_read_file(dir_.path() / "pdp.log").value_or(""); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

 private:
  TempDir dir_;
  int port_;
  fs::path bundle_, log_;
  pid_t pid_ = -1;
  net::HttpsClient client_{net::ClientConfig{}};
};

Json sample_bundle() {
  return Json::parse(read_file(std::string(DIVE_SOURCE_DIR) + "/data/policy-bundle.json"));
}

double metric(const std::string& text, const std::string& series) {
  auto pos = text.find(series + " ");
  return pos == std::string::npos ? -1 : std::stod(text.substr(pos + series.size() + 1));
}

const char* kValid =
    R"({"input":{"subject":{"authenticated":true,"uniqueID":"u1","clearance":"SECRET","countryOfAffiliation":"USA","acpCOI":["NATO"]},"action":{"operation":"get"},"resource":{"resourceId":"d1","classification":"SECRET","releasabilityTo":["USA","GBR"],"COI":[],"encrypted":false,"creationDate":"2026-01-21T00:00:00.000Z"},"context":{"currentTime":"2026-01-21T10:00:00.000Z","requestId":"r1"}}})";

}  // namespace

TEST(StandalonePdp, AnswersTheConformanceTableOverHttp) {
  Json table = conformance();
  // One server per distinct bundle (sample, built-in, each set of policy_options).
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < table["cases"].size(); ++i)
    groups[conformance_bundle_doc(table["cases"][i], sample_bundle()).dump()].push_back(i);
  size_t checked = 0;
  for (const auto& [doc, cases] : groups) {
    Pdp pdp(Json::parse(doc));
    for (size_t i : cases) {
      const Json& c = table["cases"][i];
      SCOPED_TRACE(c["name"].get<std::string>());
      auto resp =
          pdp.post("/v1/data/dive/authz/decision", Json{{"input", conformance_input(table, c)}}.dump());
      ASSERT_EQ(resp.status, 200) << resp.body;
      Json result = resp.json()["result"];
      EXPECT_EQ(result["allow"], c["expect"]["allow"]);
      EXPECT_EQ(result["reason"], c["expect"]["reason"]);
      if (c["expect"].contains("obligations")) {
        EXPECT_EQ(result["obligations"], c["expect"]["obligations"]);
      }
      const Json details =
          c["expect"].value("details", Json::object());  // named: items() of a temporary dangles
      for (const auto& [ptr, want] : details.items()) {
        EXPECT_EQ(result["evaluation_details"][Json::json_pointer(ptr)], want) << ptr;
      }
      // The older package name answers the same.
      auto old =
          pdp.post("/v1/data/dive/authorization/reason", Json{{"input", conformance_input(table, c)}}.dump());
      EXPECT_EQ(old.json()["result"], c["expect"]["reason"]);
      ++checked;
    }
  }
  EXPECT_EQ(checked, table["cases"].size());
  EXPECT_GE(checked, 100u);
}

TEST(StandalonePdp, BadInputGets400AndTheServiceKeepsServing) {
  Pdp pdp(Json::parse(read_file(std::string(DIVE_SOURCE_DIR) + "/data/policy-bundle.json")));
  const std::string path = "/v1/data/dive/authz/decision";
  std::string deep = std::string(200, '[') + std::string(200, ']');
  std::string big = std::string(R"({"input":{"pad":")") + std::string(1100 * 1024, 'x') + "\"}}";
  std::vector<std::pair<std::string, std::string>> bad = {
      {"not JSON", "{not json"},
      {"empty body", ""},
      {"no input", R"({"inputs":{}})"},
      {"input not an object", R"({"input":[1,2]})"},
      {"deep nesting", R"({"input":)" + deep + "}"},
      {"body over 1 MiB", big},
      {"NUL byte", std::string("{\"input\":{}}\0", 13)},
  };
  for (const auto& [what, body] : bad) {
    auto r = pdp.post(path, body);
    EXPECT_EQ(r.status, 400) << what << ": " << r.body.substr(0, 200);
    Json j = r.json();
    EXPECT_EQ(j["code"], "invalid_parameter") << what;
    EXPECT_FALSE(j["message"].get<std::string>().empty()) << what;
    EXPECT_EQ(pdp.get("/health").status, 200) << "still serving after " << what;
  }
  EXPECT_EQ(pdp.post(path, kValid).json()["result"]["allow"], true);
  // Attributes and sections of unexpected types are decided as OPA decides them (issue 11 §8).
  auto odd = pdp.post(
      path, R"({"input":{"subject":{"authenticated":"yes","clearance":5},"resource":{},"action":"read"}})");
  EXPECT_EQ(odd.status, 200) << odd.body;
  EXPECT_EQ(odd.json()["result"]["reason"], "Missing required attribute: uniqueID");
  Json read = Json::parse(kValid);
  read["input"]["action"] = "read";
  EXPECT_EQ(pdp.post(path, read.dump()).json()["result"]["allow"], true);
  EXPECT_EQ(pdp.post("/v1/data/dive/authz/nothing", kValid).status, 404);
  EXPECT_EQ(pdp.get("/v1/data/dive/authz/decision").status, 405);
}

TEST(StandalonePdp, BatchAllowReasonAndPolicyVersion) {
  Json bundle = Json::parse(read_file(std::string(DIVE_SOURCE_DIR) + "/data/policy-bundle.json"));
  Pdp pdp(bundle);
  Json input = Json::parse(kValid)["input"];
  Json denied = input;
  denied["subject"]["clearance"] = "CONFIDENTIAL";
  auto b =
      pdp.post("/v1/batch/data/dive/authz/decision", Json{{"inputs", {{"a", input}, {"b", denied}}}}.dump());
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(b.json()["responses"]["a"]["result"]["allow"], true);
  EXPECT_EQ(b.json()["responses"]["b"]["result"]["allow"], false);
  auto partial =
      pdp.post("/v1/batch/data/dive/authz/decision", Json{{"inputs", {{"a", input}, {"bad", 7}}}}.dump());
  EXPECT_EQ(partial.status, 207);
  EXPECT_EQ(partial.json()["responses"]["bad"]["code"], "invalid_parameter");
  EXPECT_EQ(pdp.post("/v1/data/dive/authz/allow", kValid).body, R"({"result":true})");
  EXPECT_EQ(pdp.post("/v1/data/dive/authz/reason", kValid).json()["result"],
            "Access granted - all conditions satisfied");
  Json v = pdp.get("/v1/data/dive/policy_version").json()["result"];
  EXPECT_EQ(v["version"], "2.1.0");
  EXPECT_EQ(v["bundle"].get<std::string>().size(), 64u);
}

TEST(StandalonePdp, MetricsAndTheDecisionLogFollowTheTraffic) {
  Pdp pdp(Json::parse(read_file(std::string(DIVE_SOURCE_DIR) + "/data/policy-bundle.json")));
  std::string before = pdp.get("/metrics").body;
  for (int i = 0; i < 5; ++i) pdp.post("/v1/data/dive/authz/decision", kValid);
  pdp.post("/v1/data/dive/authz/decision", "{broken");
  std::string after = pdp.get("/metrics").body;
  EXPECT_EQ(metric(after, "dive_v3_policy_evaluations_total{result=\"allow\"}") -
                metric(before, "dive_v3_policy_evaluations_total{result=\"allow\"}"),
            5);
  EXPECT_EQ(metric(after, "dive_v3_policy_evaluations_total{result=\"error\"}") -
                metric(before, "dive_v3_policy_evaluations_total{result=\"error\"}"),
            1);
  EXPECT_GE(metric(after, "dive_v3_policy_evaluation_latency_seconds_count"), 5);
  std::string log;
  ASSERT_TRUE(wait_until(
      [&] {
        log = pdp.log_text();
        return std::count(log.begin(), log.end(), '\n') >= 5;
      },
      5s))
      << log;
  Json first = Json::parse(log.substr(0, log.find('\n')));
  EXPECT_EQ(first["input_hash"], sha256_hex(kValid));
  EXPECT_EQ(first["allow"], true);
  EXPECT_EQ(first["query"], "decision");
  EXPECT_EQ(first["bundle_revision"].get<std::string>().size(), 64u);
  EXPECT_EQ(log.find("testuser"), std::string::npos) << "no input values in the log";
}

TEST(StandalonePdp, SighupReloadsTheBundleAndABadOneIsRefused) {
  Json bundle = Json::parse(read_file(std::string(DIVE_SOURCE_DIR) + "/data/policy-bundle.json"));
  Pdp pdp(bundle);
  std::string rev1 = pdp.get("/v1/data/dive/policy_version").json()["result"]["bundle"];
  bundle["trusted_issuers"] = Json{{"https://idp.example/realms/x", {{"tenant", "USA"}}}};
  pdp.replace_bundle_text(bundle.dump());
  pdp.hup();
  std::string rev2;
  ASSERT_TRUE(wait_until(
      [&] {
        rev2 = pdp.get("/v1/data/dive/policy_version").json()["result"]["bundle"];
        return rev2 != rev1;
      },
      5s));
  pdp.replace_bundle_text(R"({"trusted_issuers": 42})");
  pdp.hup();
  ASSERT_TRUE(wait_until([&] { return pdp.process_log().find("refused") != std::string::npos; }, 5s))
      << pdp.process_log();
  EXPECT_EQ(pdp.get("/v1/data/dive/policy_version").json()["result"]["bundle"], rev2)
      << "the previous bundle stays";
  EXPECT_EQ(pdp.post("/v1/data/dive/authz/allow", kValid).status, 200);
  EXPECT_GE(metric(pdp.get("/metrics").body, "dive_v3_policy_bundle_loads_total{result=\"rejected\"}"), 1);
}

TEST(StandalonePdp, ListensOnLoopbackOnlyAndRefusesABadStart) {
  Pdp pdp(Json::object());
  // /proc/net/tcp: the listener's local address is 0100007F (127.0.0.1).
  std::ifstream in("/proc/net/tcp");
  std::string line;
  char port_hex[8];
  std::snprintf(port_hex, sizeof port_hex, "%04X", pdp.port());
  bool found = false;
  while (std::getline(in, line)) {
    if (line.find(std::string(":") + port_hex + " ") != std::string::npos &&
        line.find(" 0A ") != std::string::npos) {
      found = true;
      EXPECT_NE(line.find("0100007F:" + std::string(port_hex)), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(found);
  // A missing or invalid bundle file: exit 1 with a message, nothing listening.
  auto r = run_capture({DiveCli::binary(), "serve", "pdp", "--data", "/nonexistent.json", "--port",
                        std::to_string(free_port())},
                       10s);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cannot load the data bundle"), std::string::npos) << r.output;
  EXPECT_EQ(run_capture({DiveCli::binary(), "serve", "pdp", "--port", "1234"}, 10s).exit_code, 64);
}
