// The web console in a real browser: deploys a hub (test profile), then runs the Playwright suite of
// tests/web (console.spec.mjs and the specs beside it) in Debian's Chromium against its console, over TLS
// verified against the hub's CA (an NSS database in a private HOME trusts $DIVE_HOME/ca/rootCA.pem; nothing
// ignores certificate errors). `./dive test web` runs it; artifacts land in <build>/web-artifacts
// (screenshots/, test-results/ with traces of failures, report/, first-load.json).
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "dive_cli.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {

// The suite's own files: package.json, the lock, the config and every module (support.mjs, *.spec.mjs, ...);
// not this driver, CMakeLists.txt, node_modules or artifacts of a run by hand.
bool suite_file(const fs::directory_entry& e) {
  const auto ext = e.path().extension();
  return e.is_regular_file() && (ext == ".mjs" || ext == ".js" || ext == ".json");
}

// Copies the suite into the work folder and removes what no longer exists in the source (a deleted spec).
void copy_suite(const fs::path& src, const fs::path& work) {
  for (const auto& e : fs::directory_iterator(work))
    if (suite_file(e) && !fs::exists(src / e.path().filename())) fs::remove(e.path());
  for (const auto& e : fs::directory_iterator(src))
    if (suite_file(e)) write_file_atomic(work / e.path().filename(), read_file(e.path()));
}

// `npm ci` only when the lock file changed since the last successful install (stamp written after it), so a
// normal run is offline.
void install_when_needed(const fs::path& work) {
  const std::string lock = read_file(work / "package-lock.json");
  const fs::path stamp = work / "node_modules" / ".dive-installed-lock";
  if (try_read_file(stamp) == lock && fs::exists(work / "node_modules" / "@playwright" / "test")) return;
  SpawnOptions ci;
  ci.argv = {"npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"};
  ci.cwd = work.string();
  ci.env["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1";  // Debian's Chromium only
  auto r = run_capture(ci, 300s);
  ASSERT_EQ(r.exit_code, 0) << "npm ci failed (scripts/bootstrap installs nodejs and npm):\n" << r.output;
  write_file_atomic(stamp, lock);
}

// A HOME for the browser whose NSS database (Chromium's on Linux: $HOME/.pki/nssdb) trusts the CA as an
// issuer of server certificates, and nothing else added.
void trust_ca_in_nss_db(const fs::path& home, const fs::path& ca) {
  const fs::path db = home / ".pki" / "nssdb";
  fs::create_directories(db);
  fs::permissions(home / ".pki", fs::perms::owner_all, fs::perm_options::replace);
  fs::permissions(db, fs::perms::owner_all, fs::perm_options::replace);
  const std::string where = "sql:" + db.string();
  auto created = run_capture({"certutil", "-N", "-d", where, "--empty-password"}, 30s);
  ASSERT_EQ(created.exit_code, 0) << "certutil -N (scripts/bootstrap installs libnss3-tools):\n"
                                  << created.output;
  auto added =
      run_capture({"certutil", "-A", "-d", where, "-n", "DIVE test CA", "-t", "C,,", "-i", ca.string()}, 30s);
  ASSERT_EQ(added.exit_code, 0) << "certutil -A:\n" << added.output;
  auto listed = run_capture({"certutil", "-L", "-d", where}, 30s);
  ASSERT_NE(listed.output.find("DIVE test CA"), std::string::npos) << listed.output;
}

}  // namespace

class WebConsoleBrowser : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The hub and one spoke: the hub's console signs FRA users in at FRA's identity provider.
    cli_ = std::make_unique<DiveCli>(std::vector<std::string>{"USA", "FRA"});
    auto r = cli_->run({"hub", "deploy", "--profile", "test"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = cli_->run({"spoke", "deploy", "FRA", "--profile", "test"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    deployed_ = true;
  }
  static void TearDownTestSuite() { cli_.reset(); }

  static Json secrets(const std::string& code = "usa") {
    return Json::parse(read_file(cli_->home() / "instances" / code / "secrets.json"));
  }

  static std::unique_ptr<DiveCli> cli_;
  static bool deployed_;
};
std::unique_ptr<DiveCli> WebConsoleBrowser::cli_;
bool WebConsoleBrowser::deployed_ = false;

TEST_F(WebConsoleBrowser, PlaywrightSuitePassesInChromium) {
  ASSERT_TRUE(deployed_) << "the hub was not deployed";
  const fs::path src = DIVE_WEB_TESTS_DIR;
  const fs::path work = DIVE_WEB_TESTS_WORK;
  const fs::path artifacts = DIVE_WEB_ARTIFACTS;
  ensure_dir(work);
  copy_suite(src, work);
  ASSERT_NO_FATAL_FAILURE(install_when_needed(work));

  TempDir browser_home("dive-web-home");
  ASSERT_NO_FATAL_FAILURE(trust_ca_in_nss_db(browser_home.path(), cli_->ca_file()));

  // Screenshots and the first-load figures of this run only (Playwright empties test-results/ itself).
  std::error_code ec;
  fs::remove_all(artifacts / "screenshots", ec);
  fs::remove(artifacts / "first-load.json", ec);
  ensure_dir(artifacts);

  const Json s = secrets();
  SpawnOptions pw;
  pw.argv = {"npx", "--no", "playwright", "test"};
  pw.cwd = work.string();
  pw.env["CONSOLE_URL"] = "https://localhost:" + std::to_string(cli_->port("USA", "web")) + "/";
  pw.env["DIVE_HOME"] = cli_->home().string();
  pw.env["DIVE_BIN"] = DiveCli::binary();
  pw.env["DIVE_PORT_SHIFT"] = std::to_string(cli_->shift());
  pw.env["DIVE_ROOT"] = DIVE_SOURCE_DIR;
  pw.env["DIVE_TEST_PASSWORD"] = s["test_user_password"].get<std::string>();
  pw.env["DIVE_ADMIN_PASSWORD"] = s["admin_password"].get<std::string>();
  pw.env["DIVE_FRA_TEST_PASSWORD"] = secrets("fra")["test_user_password"].get<std::string>();
  pw.env["DIVE_WEB_ARTIFACTS"] = artifacts.string();
  pw.env["HOME"] = browser_home.path().string();             // the browser's NSS database
  pw.env["NODE_EXTRA_CA_CERTS"] = cli_->ca_file().string();  // Playwright's own requests (request fixture)
  pw.env["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1";
  pw.env["CI"] = "1";
  pw.env["FORCE_COLOR"] = "0";  // plain output in the test log
  pw.env_unset = {"NO_COLOR", "DISPLAY", "WAYLAND_DISPLAY"};
  const auto started = std::chrono::steady_clock::now();
  auto r = run_capture(pw, 720s);  // above the suite's own globalTimeout (10 min)
  const auto took =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  if (r.exit_code == 0) std::cout << r.output;  // on failure, the assertions below print it
  std::cout << "playwright: " << took.count() << " s; artifacts in " << artifacts.string() << "\n";
  ASSERT_FALSE(r.timed_out) << "playwright did not finish within 720 s:\n" << r.output;
  ASSERT_EQ(r.exit_code, 0) << "playwright failed (traces and screenshots in " << artifacts.string() << "):\n"
                            << r.output;
  EXPECT_TRUE(fs::exists(artifacts / "screenshots" / "start.png")) << r.output;
}
