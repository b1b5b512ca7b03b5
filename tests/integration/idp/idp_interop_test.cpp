// Interoperability with independent OIDC libraries from npm (openid-client, jose; tests/interop): they
// discover the issuer, log in with the password grant, refresh and verify tokens against the JWKS.
#include <cstdlib>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "idp_fixture.hpp"

using namespace dive;
using namespace dive::testing;

TEST_F(IdpTest, OpenIdClientAndJoseInteroperate) {
  fs::path work = DIVE_INTEROP_WORK;
  fs::path src = DIVE_INTEROP_DIR;
  ensure_dir(work);
  // npm ci only when the lock file changed since the last install (the cache makes it offline-friendly).
  std::string lock = read_file(src / "package-lock.json");
  bool fresh = try_read_file(work / "package-lock.json") == lock &&
               fs::exists(work / "node_modules" / "openid-client");
  for (const char* f : {"package.json", "package-lock.json", "oidc_interop.mjs"})
    write_file_atomic(work / f, read_file(src / f));
  if (!fresh) {
    SpawnOptions ci;
    ci.argv = {"npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"};
    ci.cwd = work.string();
    auto r = run_capture(ci, std::chrono::seconds(300));
    ASSERT_EQ(r.exit_code, 0) << "npm ci failed (scripts/bootstrap installs nodejs and npm):\n" << r.output;
  }
  SpawnOptions node;
  node.argv = {"node", "oidc_interop.mjs"};
  node.cwd = work.string();
  node.env["ISSUER"] = issuer();
  node.env["DIVE_USERNAME"] = "testuser-usa-1";
  node.env["DIVE_PASSWORD"] = test_password();
  node.env["NODE_EXTRA_CA_CERTS"] = cli().ca_file().string();
  auto r = run_capture(node, std::chrono::seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"ok\":true"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("reuse revoked the whole family"), std::string::npos) << r.output;
}
