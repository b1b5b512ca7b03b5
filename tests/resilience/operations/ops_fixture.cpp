#include "ops_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "orchestrator/control_socket.hpp"

namespace dive::testing::ops {

using namespace std::chrono_literals;

namespace {

std::unique_ptr<DiveCli> g_cli;
std::unique_ptr<ApiClient> g_api;

// One hub for the whole binary. QAA: the spoke the orchestration-breaker scenario deploys (its ports are
// claimed with the hub's).
class HubEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    raise_open_files_limit();    // the abuse scenarios hold a few thousand sockets
    ::signal(SIGPIPE, SIG_IGN);  // a server that closes on a bad request must not kill the test (SSL_write)
    g_cli = std::make_unique<DiveCli>(std::vector<std::string>{"USA", "QAA"});
    const auto t0 = std::chrono::steady_clock::now();
    auto r = g_cli->run({"hub", "deploy", "--profile", "test"});
    if (r.exit_code != 0) {
      ADD_FAILURE() << "hub deploy failed:\n" << r.output;
      return;
    }
    std::printf("[ops] hub deployed in %lld ms at port shift %d\n",
                static_cast<long long>(
                    std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0).count()),
                g_cli->shift());
    g_api = std::make_unique<ApiClient>(*g_cli, "USA");
  }
  void TearDown() override {
    g_api.reset();
    g_cli.reset();  // nuke all: only what this binary started
  }
};

[[maybe_unused]] ::testing::Environment* const g_env =
    ::testing::AddGlobalTestEnvironment(new HubEnvironment);

}  // namespace

DiveCli* hub_cli() {
  return g_cli.get();
}
ApiClient* hub_api() {
  return g_api.get();
}

void Ops::SetUp() {
  if (!hub_cli() || !hub_api()) GTEST_SKIP() << "no hub (its deployment failed)";
  ASSERT_TRUE(wait_healthy(60s)) << "the hub is not healthy before the scenario:\n" << status().dump(2);
}

void Ops::TearDown() {
  if (!hub_cli() || !hub_api()) return;
  EXPECT_TRUE(wait_healthy(60s)) << "the scenario left the hub unhealthy:\n" << status().dump(2);
}

Json Ops::status() {
  return cli().run_json({"hub", "status", "--json"});
}

Json Ops::svc(const std::string& name) {
  return cli().service_status("USA", name);
}

Json Ops::api_health() {
  auto [code, body] = cli().https_get(port("api"), "/health");
  return Json::parse(body, nullptr, false).is_discarded() ? Json() : Json::parse(body);
}

Json Ops::api_detailed() {
  auto [code, body] = cli().https_get(port("api"), "/health/detailed");
  return Json::parse(body, nullptr, false).is_discarded() ? Json() : Json::parse(body);
}

bool Ops::all_healthy() {
  Json st = status();
  if (!st.value("running", false)) return false;
  for (const auto& s : st["services"])
    if (s.value("wanted", true) && !(s["state"] == "running" && s.value("healthy", false))) return false;
  return true;
}

bool Ops::wait_healthy(Millis bound) {
  return wait_until([&] { return all_healthy(); }, bound, 200ms);
}

std::string Ops::api_breaker(const std::string& dependency) {
  Json d = api_detailed();
  if (!d.is_object() || !d.contains("circuitBreakers") || !d["circuitBreakers"].contains(dependency))
    return "";
  return d["circuitBreakers"][dependency].value("state", "");
}

std::unique_ptr<LoadDriver> Ops::start_load(LoadOptions o) {
  auto load = std::make_unique<LoadDriver>(cli(), api(), o);
  if (!load->prepare()) {
    ADD_FAILURE() << "the load could not be prepared";
    return load;
  }
  load->start();
  EXPECT_TRUE(load->wait_recovered(20s, 10)) << "the load's baseline was not reached";
  return load;
}

std::optional<Millis> Ops::finish(LoadDriver& load, const std::string& name, Millis bound,
                                  bool allow_transport_errors) {
  auto rec = load.wait_recovered(bound);
  load.stop();
  EXPECT_TRUE(rec) << name << ": not back to the baseline within " << bound.count() << " ms";
  EXPECT_TRUE(load.expect_clean(bound, allow_transport_errors)) << name;
  if (load.options().uploads) {
    const int verified = load.verify_acknowledged_writes();
    EXPECT_EQ(static_cast<size_t>(verified), load.acknowledged_writes());
  }
  std::printf(
      "SCENARIO %s: recovered in %s ms (bound %lld ms); %zu requests, %zu errors (%zu without answer)\n",
      name.c_str(), rec ? std::to_string(rec->count()).c_str() : "-", static_cast<long long>(bound.count()),
      load.count(), failures(load), transport_failures(load));
  std::fflush(stdout);
  return rec;
}

size_t Ops::failures(const LoadDriver& load) {
  size_t n = 0;
  for (const auto& s : load.samples()) n += !s.ok;
  return n;
}

size_t Ops::transport_failures(const LoadDriver& load) {
  size_t n = 0;
  for (const auto& s : load.samples()) n += s.status == 0;
  return n;
}

fs::path Ops::instance_json() {
  return cli().home() / "instances" / "usa" / "instance.json";
}

Json Ops::read_instance_json() {
  return Json::parse(read_file(instance_json()));
}

void Ops::write_instance_json(const Json& cfg) {
  write_file_atomic(instance_json(), cfg.dump(2) + "\n", 0644);
}

Json Ops::supervisor_answer(const std::string& cmd, const std::string& service) {
  auto r = orch::supervisor_request(cli().home() / "instances" / "usa" / "run" / "supervisor.sock",
                                    Json{{"cmd", cmd}, {"service", service}});
  return r ? *r : Json();
}

bool Ops::supervisor_command(const std::string& cmd, const std::string& service) {
  Json r = supervisor_answer(cmd, service);
  return r.is_object() && r.value("ok", false);
}

std::optional<double> Ops::metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

// ---- RawConn ----

SSL_CTX* tls_client_ctx(const std::string& ca_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return ctx;
}

RawConn::RawConn(int port, SSL_CTX* ctx, Millis timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
  if (!ctx) {
    ok_ = true;
    return;
  }
  ssl_ = SSL_new(ctx);
  SSL_set_fd(ssl_, fd_);
  SSL_set_tlsext_host_name(ssl_, "localhost");
  SSL_set1_host(ssl_, "localhost");
  ok_ = SSL_connect(ssl_) == 1;
}

RawConn::~RawConn() {
  if (ssl_) SSL_free(ssl_);
  if (fd_ >= 0) ::close(fd_);
}

bool RawConn::send(const std::string& bytes) {
  if (!ok_) return false;
  size_t off = 0;
  while (off < bytes.size()) {
    int n = ssl_ ? SSL_write(ssl_, bytes.data() + off, static_cast<int>(bytes.size() - off))
                 : static_cast<int>(::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL));
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

int RawConn::read_status() {
  if (!ok_) return 0;
  std::string got;
  char buf[4096];
  while (got.find("\r\n") == std::string::npos && got.size() < 65536) {
    int n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : static_cast<int>(::recv(fd_, buf, sizeof buf, 0));
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  std::smatch m;
  if (std::regex_search(got, m, std::regex(R"(^HTTP/1\.[01] (\d{3}))"))) return std::stoi(m[1]);
  return 0;
}

std::string RawConn::read_all() {
  std::string got;
  char buf[4096];
  while (ok_ && got.size() < (1u << 20)) {
    int n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : static_cast<int>(::recv(fd_, buf, sizeof buf, 0));
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

bool RawConn::closed_by_peer() {
  if (fd_ < 0 || !ok_) return true;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (!ssl_) return true;  // a request never completed gets nothing but an error (408) or the close
  // TLS: what arrived may only be session tickets (TLS 1.3 sends them after the handshake).
  const int flags = ::fcntl(fd_, F_GETFL);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  char c;
  const int r = SSL_read(ssl_, &c, 1);
  const int err = SSL_get_error(ssl_, r);
  ::fcntl(fd_, F_SETFL, flags);
  return r > 0 || err != SSL_ERROR_WANT_READ;
}

std::vector<pid_t> service_processes(const fs::path& home, const std::string& svc, const std::string& code) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream cl(e.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(cl)), std::istreambuf_iterator<char>());
    std::vector<std::string> argv;
    std::string cur;
    for (char c : cmd) {
      if (c == '\0') {
        argv.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (argv.size() != 5 || argv[1] != "serve" || argv[2] != svc || argv[3] != "--instance" ||
        argv[4] != code)
      continue;
    std::ifstream en(e.path() / "environ");
    std::string env((std::istreambuf_iterator<char>(en)), std::istreambuf_iterator<char>());
    const std::string want = "DIVE_HOME=" + home.string();
    bool ours = false;
    for (size_t pos = 0; pos < env.size();) {
      size_t end = env.find('\0', pos);
      if (end == std::string::npos) end = env.size();
      if (env.compare(pos, end - pos, want) == 0) ours = true;
      pos = end + 1;
    }
    if (ours) out.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return out;
}

}  // namespace dive::testing::ops
