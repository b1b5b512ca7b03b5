#include "orchestrator/certs.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "common/strings.hpp"
#include "orchestrator/file_lock.hpp"
#include "orchestrator/instance_config.hpp"

namespace dive::orch {

std::vector<std::string> instance_sans(const std::string& code) {
  std::string c = to_lower(code);
  return {"localhost",          "127.0.0.1",          "::1",
          c + ".dive.local",    "dive-" + c + "-api", "dive-" + c + "-idp",
          "dive-" + c + "-pdp", "dive-" + c + "-kas"};
}

std::vector<std::string> instance_sans(const Layout& layout, const std::string& code) {
  auto sans = instance_sans(code);
  try {
    auto where = Placement::from_config(read_instance_config(layout.instance(code)));
    for (const auto& extra : {where.host, where.bind})
      if (extra != "0.0.0.0" && std::find(sans.begin(), sans.end(), extra) == sans.end())
        sans.push_back(extra);
  } catch (const std::exception&) {
    // not deployed yet: the defaults
  }
  return sans;
}

namespace {
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

X509Ptr load_cert(const fs::path& p) {
  std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(p.c_str(), "r"), &std::fclose);
  if (!f) return nullptr;
  return X509Ptr(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
}

std::vector<std::string> cert_sans(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                       static_cast<size_t>(ASN1_STRING_length(n->d.dNSName)));
    } else if (n->type == GEN_IPADD) {
      const unsigned char* d = ASN1_STRING_get0_data(n->d.iPAddress);
      int len = ASN1_STRING_length(n->d.iPAddress);
      char buf[64];
      if (len == 4) {
        std::snprintf(buf, sizeof buf, "%d.%d.%d.%d", d[0], d[1], d[2], d[3]);
        out.emplace_back(buf);
      } else if (len == 16) {
        bool loopback = std::all_of(d, d + 15, [](unsigned char c) { return c == 0; }) && d[15] == 1;
        out.emplace_back(loopback ? "::1" : "ipv6");
      }
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string asn1_time_iso(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

CertReport verify_instance_cert(const Layout& layout, const std::string& code) {
  return verify_cert_at(layout, layout.instance(code), instance_sans(layout, code));
}

CertReport verify_cert_at(const Layout& layout, const InstancePaths& paths,
                          const std::vector<std::string>& sans) {
  CertReport r;
  r.code = paths.code;
  X509Ptr cert = load_cert(paths.cert_file);
  if (!cert) {
    r.error = "no certificate at " + paths.cert_file.string();
    return r;
  }
  r.present = true;
  r.sans = cert_sans(cert.get());
  for (const auto& want : sans)
    if (std::find(r.sans.begin(), r.sans.end(), want) == r.sans.end()) r.missing_sans.push_back(want);
  int days = 0, secs = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(cert.get())) == 1) r.days_left = days;
  r.not_after = asn1_time_iso(X509_get0_notAfter(cert.get()));
  X509Ptr ca = load_cert(layout.ca_cert());
  if (!ca) {
    r.error = "no CA certificate at " + layout.ca_cert().string();
    return r;
  }
  X509Ptr ca_copy = load_cert(paths.ca_file);
  r.ca_copy_ok = ca_copy && X509_cmp(ca.get(), ca_copy.get()) == 0;
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
  X509_STORE_add_cert(store.get(), ca.get());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      &X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr);
  r.chain_ok = X509_verify_cert(ctx.get()) == 1;
  if (!r.chain_ok)
    r.error = std::string("chain: ") + X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  else if (!r.ca_copy_ok)
    r.error = "the CA copy in " + paths.ca_file.string() + " differs from " + layout.ca_cert().string();
  else if (!r.missing_sans.empty())
    r.error = "missing SANs: " + join(r.missing_sans, ", ");
  else if (r.days_left <= 0)
    r.error = "expired";
  return r;
}

Json CertReport::to_json() const {
  return Json{
      {"code", code},           {"ok", ok()},    {"present", present},          {"chainOk", chain_ok},
      {"caCopyOk", ca_copy_ok}, {"sans", sans},  {"missingSans", missing_sans}, {"daysLeft", days_left},
      {"notAfter", not_after},  {"error", error}};
}

namespace {
void copy_ca_into(const Layout& layout, const InstancePaths& p) {
  ensure_dir(p.certs, 0755);
  write_file_atomic(p.ca_file, read_file(layout.ca_cert()), 0644);
}
}  // namespace

bool generate_instance_cert(const Layout& layout, const std::string& code, bool force) {
  return generate_cert_at(layout, layout.instance(code), instance_sans(layout, code), force);
}

bool generate_cert_at(const Layout& layout, const InstancePaths& paths, const std::vector<std::string>& sans,
                      bool force) {
  const std::string& code = paths.code;
  ensure_dir(layout.ca_dir(), 0700);
  ensure_dir(paths.certs, 0755);
  // One mkcert at a time: the first run creates the CA, and two creating it at once would each make one.
  auto lock = FileLock::acquire(layout.ca_dir() / ".lock", std::chrono::seconds(120));
  if (!force && fs::exists(layout.ca_cert())) {
    auto r = verify_cert_at(layout, paths, sans);
    if (r.present && r.chain_ok && r.missing_sans.empty() && r.days_left > 30) {
      if (!r.ca_copy_ok) copy_ca_into(layout, paths);
      return false;
    }
  }
  if (!find_executable("mkcert"))
    throw std::runtime_error("mkcert is not installed (scripts/bootstrap installs it)");
  SpawnOptions o;
  o.argv = {"mkcert", "-ecdsa", "-cert-file", paths.cert_file.string(), "-key-file", paths.key_file.string()};
  for (const auto& s : sans) o.argv.push_back(s);
  o.env["CAROOT"] = layout.ca_dir().string();
  o.env_unset = {"JAVA_HOME"};  // mkcert probes Java trust stores otherwise; we never install anywhere
  auto r = run_capture(o, std::chrono::seconds(60));
  if (r.exit_code != 0) throw std::runtime_error("mkcert failed for " + code + ": " + trim(r.output));
  ::chmod(paths.key_file.c_str(), 0600);
  ::chmod(paths.cert_file.c_str(), 0644);
  ::chmod(layout.ca_cert().c_str(), 0644);
  copy_ca_into(layout, paths);
  return true;
}

std::vector<std::string> sync_ca(const Layout& layout) {
  if (!fs::exists(layout.ca_cert()))
    throw std::runtime_error("no CA yet at " + layout.ca_cert().string() +
                             " (run ./dive certs generate <CODE>)");
  std::vector<std::string> done;
  for (const auto& code : layout.deployed_codes()) {
    copy_ca_into(layout, layout.instance(code));
    done.push_back(code);
  }
  return done;
}

}  // namespace dive::orch
