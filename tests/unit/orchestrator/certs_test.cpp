#include "orchestrator/certs.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/fs.hpp"
#include "orchestrator/instance_config.hpp"

using namespace dive;
using namespace dive::orch;

TEST(Certs, GenerateVerifyAndSyncWithARealMkcertCa) {
  TempDir home;
  Layout l{home.path()};
  EXPECT_TRUE(generate_instance_cert(l, "TST", false));
  auto r = verify_instance_cert(l, "TST");
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.missing_sans.empty());
  for (const char* san : {"localhost", "127.0.0.1", "::1", "tst.dive.local", "dive-tst-api", "dive-tst-kas"})
    EXPECT_NE(std::find(r.sans.begin(), r.sans.end(), san), r.sans.end()) << san;
  EXPECT_GT(r.days_left, 300);
  struct stat st {};
  ASSERT_EQ(::stat(l.instance("TST").key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u) << "the private key must not be readable by others";
  EXPECT_FALSE(fs::exists(l.instance("TST").certs / "rootCA-key.pem"))
      << "the CA key never leaves $DIVE_HOME/ca";
  // A valid certificate is kept; --force renews.
  EXPECT_FALSE(generate_instance_cert(l, "TST", false));
  EXPECT_TRUE(generate_instance_cert(l, "TST", true));
}

TEST(Certs, VerifyDetectsAForeignCaCopyAndAMissingCert) {
  TempDir home;
  Layout l{home.path()};
  EXPECT_FALSE(verify_instance_cert(l, "FRA").ok());
  EXPECT_FALSE(verify_instance_cert(l, "FRA").present);
  generate_instance_cert(l, "FRA", false);
  write_file_atomic(l.instance("FRA").ca_file, read_file(l.instance("FRA").cert_file));  // not our CA
  auto r = verify_instance_cert(l, "FRA");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.ca_copy_ok);
  // sync-ca puts the real CA back into every deployed instance.
  write_file_atomic(l.instance("FRA").instance_json, "{}");
  EXPECT_EQ(sync_ca(l), std::vector<std::string>{"FRA"});
  EXPECT_TRUE(verify_instance_cert(l, "FRA").ok());
}

TEST(Certs, SansCoverEveryServiceName) {
  EXPECT_EQ(instance_sans("FRA"),
            (std::vector<std::string>{"localhost", "127.0.0.1", "::1", "fra.dive.local", "dive-fra-api",
                                      "dive-fra-idp", "dive-fra-pdp", "dive-fra-kas"}));
}

TEST(Certs, ADeployedInstanceAlsoCoversItsHostAndBindAddress) {
  TempDir home;
  Layout l{home.path()};
  EXPECT_EQ(instance_sans(l, "GBR"), instance_sans("GBR"));  // not deployed: the defaults
  write_instance_config(l, "GBR", Profile::Test, 0, make_placement("dive.gbr.example", "10.0.0.7"));
  auto sans = instance_sans(l, "GBR");
  EXPECT_EQ(sans.size(), instance_sans("GBR").size() + 2);
  EXPECT_EQ(sans[sans.size() - 2], "dive.gbr.example");
  EXPECT_EQ(sans.back(), "10.0.0.7");
  write_instance_config(l, "GBR", Profile::Test, 0, make_placement("127.0.0.1", "0.0.0.0"));
  EXPECT_EQ(instance_sans(l, "GBR"), instance_sans("GBR"));  // nothing new; 0.0.0.0 is no address to name
}
