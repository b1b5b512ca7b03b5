// An instance placed on a host of its own (`deploy --host`): a hub on 127.0.0.2 in a private $DIVE_HOME,
// the stand-in for another machine. It listens there only, its URLs, issuer and certificate name that
// address, a user's token from its idp is accepted by its api, a redeploy keeps the placement, and the
// monitoring stack scrapes it there.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api_client.hpp"
#include "common/process.hpp"
#include "dive_cli.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {
// True when a TCP connection to address:port is accepted.
bool accepts(const std::string& address, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

class PlacedHub : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cli_ = new DiveCli({"USA"});
    auto r = cli_->run({"hub", "deploy", "--profile", "test", "--host", "127.0.0.2"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() {
    delete cli_;
    cli_ = nullptr;
  }
  static DiveCli* cli_;
};
DiveCli* PlacedHub::cli_ = nullptr;
}  // namespace

TEST_F(PlacedHub, ItListensOnItsAddressOnlyAndNamesItEverywhere) {
  Json cfg = cli_->instance_config("USA");
  EXPECT_EQ(cfg["host"], "127.0.0.2");
  EXPECT_EQ(cfg["bind"], "127.0.0.2");
  for (const char* svc : {"api", "idp", "pdp", "kas", "web"}) {
    const int port = cfg["ports"][svc];
    EXPECT_EQ(cfg["urls"][svc], "https://127.0.0.2:" + std::to_string(port)) << svc;
    EXPECT_TRUE(accepts("127.0.0.2", port)) << svc;
    EXPECT_FALSE(accepts("127.0.0.1", port)) << svc << " must not listen on 127.0.0.1";
  }
  EXPECT_EQ(cfg["issuer"], "https://127.0.0.2:" + std::to_string(cfg["ports"]["idp"].get<int>()) +
                               "/realms/dive-v3-broker-usa");
  // Its stores stay on loopback's 127.0.0.1, never on the instance's address.
  EXPECT_TRUE(accepts("127.0.0.1", cfg["ports"]["postgres"]));
  EXPECT_FALSE(accepts("127.0.0.2", cfg["ports"]["postgres"]));
  auto san = run_capture({"openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
                          (cli_->home() / "instances" / "usa" / "certs" / "cert.pem").string()},
                         10s);
  EXPECT_NE(san.output.find("IP Address:127.0.0.2"), std::string::npos) << san.output;
  auto verify = cli_->run({"hub", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
}

TEST_F(PlacedHub, AUsersTokenFromItsIdpIsAcceptedByItsApi) {
  ApiClient api(*cli_, "USA");  // every URL from instance.json: the 127.0.0.2 ones
  const std::string token = api.token("testuser-usa-5", true);
  ASSERT_FALSE(token.empty());
  auto list = api.call("api", "GET", "/api/resources?limit=3", token);
  EXPECT_EQ(list.status, 200) << list.body.dump();
  EXPECT_FALSE(list.body.value("resources", Json::array()).empty());
}

TEST_F(PlacedHub, ARedeployKeepsThePlacementAndBadPlacementsAreUsageErrors) {
  auto again = cli_->run({"hub", "deploy"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(cli_->instance_config("USA")["host"], "127.0.0.2");
  EXPECT_TRUE(accepts("127.0.0.2", cli_->instance_config("USA")["ports"]["api"]));
  auto bad = cli_->run({"hub", "deploy", "--host", "https://dive.example:443"});
  EXPECT_EQ(bad.exit_code, 64) << bad.output;
  EXPECT_NE(bad.output.find("--host must be a host name or an IPv4 address"), std::string::npos)
      << bad.output;
  auto bad_bind = cli_->run({"hub", "deploy", "--bind", "everywhere"});
  EXPECT_EQ(bad_bind.exit_code, 64) << bad_bind.output;
  EXPECT_EQ(cli_->instance_config("USA")["host"], "127.0.0.2");  // a refused command changes nothing
}

TEST_F(PlacedHub, MonitoringScrapesItWhereItIs) {
  auto up = cli_->run({"monitoring", "up", "--profile", "test"});
  ASSERT_EQ(up.exit_code, 0) << up.output;
  Json targets = Json::parse(read_file(cli_->home() / "monitoring" / "targets" / "usa.dive.json"));
  EXPECT_EQ(targets[0]["targets"][0],
            "127.0.0.2:" + std::to_string(cli_->instance_config("USA")["ports"]["api"].get<int>()));
  Json st;
  EXPECT_TRUE(wait_until(
      [&] {
        st = cli_->run_json({"monitoring", "status", "--json"});
        const Json jobs = st.value("targets", Json::object()).value("jobs", Json::object());
        return jobs.contains("dive") && jobs["dive"].value("up", 0) == 5 &&
               jobs["dive"].value("down", 1) == 0;
      },
      60s, 500ms))
      << st.dump(2);
}
