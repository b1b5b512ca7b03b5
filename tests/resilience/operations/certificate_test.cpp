// A service certificate replaced by an expired one (same subject, SANs and key, signed by the instance's CA,
// notAfter a day ago) and the service restarted with it: its clients refuse it (the api's calls to the pdp
// fail, so it answers 503 with a reason and opens its breaker; nothing leaks), `hub verify` names the
// problem, the service's dive_v3_certificate_expiry_timestamp_seconds shows it; the good certificate back,
// everything recovers.
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <regex>

#include "common/fs.hpp"
#include "net/https_client.hpp"
#include "ops_fixture.hpp"

using namespace dive;
using namespace dive::testing;
using namespace dive::testing::ops;
using namespace std::chrono_literals;

namespace {

// A copy of `cert_pem` that expired a day ago, re-signed by the CA.
std::string expired_copy(const fs::path& cert_pem, const fs::path& ca_pem, const fs::path& ca_key_pem) {
  auto load_cert = [](const fs::path& p) {
    FILE* f = std::fopen(p.c_str(), "r");
    X509* x = f ? PEM_read_X509(f, nullptr, nullptr, nullptr) : nullptr;
    if (f) std::fclose(f);
    return x;
  };
  X509* cert = load_cert(cert_pem);
  X509* ca = load_cert(ca_pem);
  FILE* kf = std::fopen(ca_key_pem.c_str(), "r");
  EVP_PKEY* ca_key = kf ? PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr) : nullptr;
  if (kf) std::fclose(kf);
  std::string out;
  if (cert && ca && ca_key) {
    X509* x = X509_dup(cert);
    X509_gmtime_adj(X509_getm_notBefore(x), -2 * 86400L);
    X509_gmtime_adj(X509_getm_notAfter(x), -86400L);
    ASN1_INTEGER_set(X509_get_serialNumber(x), static_cast<long>(std::time(nullptr)));
    X509_set_issuer_name(x, X509_get_subject_name(ca));
    if (X509_sign(x, ca_key, EVP_sha256()) > 0) {
      BIO* b = BIO_new(BIO_s_mem());
      PEM_write_bio_X509(b, x);
      char* data = nullptr;
      long n = BIO_get_mem_data(b, &data);
      out.assign(data, static_cast<size_t>(n));
      BIO_free(b);
    }
    X509_free(x);
  }
  X509_free(cert);
  X509_free(ca);
  EVP_PKEY_free(ca_key);
  return out;
}

class Certificates : public Ops {};

}  // namespace

TEST_F(Certificates, AnExpiredPdpCertificateIsRefusedNamedAndRecoveredFrom) {
  LoadOptions o;
  o.uploads = false;  // every upload needs a decision
  auto load = start_load(o);
  const fs::path certs = cli().home() / "instances" / "usa" / "certs";
  const std::string expired = expired_copy(certs / "cert.pem", cli().home() / "ca" / "rootCA.pem",
                                           cli().home() / "ca" / "rootCA-key.pem");
  ASSERT_FALSE(expired.empty()) << "could not make the expired certificate";
  const fs::path expired_file = certs / "pdp-expired.pem";
  write_file_atomic(expired_file, expired, 0644);
  const std::string original = read_file(instance_json());
  Json cfg = Json::parse(original);
  cfg["service_overrides"]["pdp"]["tls"]["cert_file"] = expired_file.string();  // this service only
  write_instance_json(cfg);

  const pid_t before = svc("pdp")["pid"];
  const std::string pdp_url = "https://localhost:" + std::to_string(port("pdp"));
  net::ClientConfig unverified;
  unverified.verify = false;  // to read what the pdp serves despite its certificate
  net::HttpsClient peek(unverified);
  auto expiry = [&]() -> std::optional<double> {
    try {
      net::ClientRequest r;
      r.url = pdp_url + "/metrics";
      r.timeout = 2s;
      auto resp = peek.send(r);
      std::smatch m;
      static const std::regex re(
          R"((^|\n)dive_v3_certificate_expiry_timestamp_seconds\{[^}]*certificate="server"[^}]*\} ([0-9.e+]+))");
      if (std::regex_search(resp.body, m, re)) return std::stod(m[2]);
    } catch (const std::exception&) {
    }
    return std::nullopt;
  };

  load->fault_begins();
  // Stopped and started (a graceful restart would keep the old pdp: its successor never gets ready with this
  // certificate, so it never replaces the one that serves — docs/ORCHESTRATION.md, "Graceful restarts").
  ASSERT_TRUE(supervisor_command("stop", "pdp"));
  ASSERT_TRUE(wait_until([&] { return svc("pdp")["state"] == "stopped"; }, 20s, 100ms));
  ASSERT_TRUE(supervisor_command("start", "pdp"));  // it will never be ready: the CLI would wait for it
  const double now = static_cast<double>(std::time(nullptr));
  std::optional<double> not_after;
  EXPECT_TRUE(wait_until(
      [&] {
        not_after = expiry();
        return svc("pdp")["pid"] != before && not_after && *not_after < now;
      },
      20s, 200ms))
      << "the restarted pdp does not report its expired certificate";
  // A client that verifies refuses it, naming the expiry.
  std::string refusal;
  try {
    net::ClientConfig cc;
    cc.ca_file = cli().ca_file().string();
    net::HttpsClient verified(cc);
    net::ClientRequest r;
    r.url = pdp_url + "/health";
    verified.send(r);
  } catch (const std::exception& e) {
    refusal = e.what();
  }
  EXPECT_TRUE(contains(refusal, "expired")) << "refusal: " << refusal;
  // So does the api: its calls to the pdp fail and its breaker opens (the load's uncached decisions are 503).
  EXPECT_TRUE(wait_until([&] { return api_breaker("pdp") == "OPEN"; }, 20s, 100ms)) << api_detailed().dump();
  auto verify = cli().run({"hub", "verify"});
  EXPECT_NE(verify.exit_code, 0) << verify.output;
  EXPECT_TRUE(std::regex_search(verify.output, std::regex("pdp /health \\(TLS\\)[^\n]*expired")))
      << verify.output;

  // The good certificate back.
  write_file_atomic(instance_json(), original, 0644);
  auto restart = cli().run({"hub", "restart", "pdp"});
  EXPECT_EQ(restart.exit_code, 0) << restart.output;
  load->fault_ends();
  fs::remove(expired_file);
  EXPECT_TRUE(wait_until([&] { return expiry().value_or(0) > now; }, 10s, 200ms));
  size_t refused = 0;
  for (const auto& s : load->samples()) refused += s.status == 503;
  EXPECT_GT(refused, 0u) << "the api never refused a request while its pdp could not be trusted";
  finish(*load, "expired-pdp-certificate", 20s);
}
