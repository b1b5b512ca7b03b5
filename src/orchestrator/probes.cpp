#include "orchestrator/probes.hpp"

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include "orchestrator/db_roles.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "net/https_client.hpp"
#include "store/local_postgres.hpp"

namespace dive::orch {

namespace {
std::string resp_command(const std::vector<std::string>& args) {
  std::string out;
  out.append("*").append(std::to_string(args.size())).append("\r\n");
  for (const auto& a : args)
    out.append("$").append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
  return out;
}
}  // namespace

bool redis_ping(int port, const std::string& password, std::chrono::milliseconds timeout,
                const std::string& user) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left_ms = [&] {
    return static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
               .count()));
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (errno != EINPROGRESS) return false;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, left_ms()) <= 0) return false;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return false;
  }
  std::string req;
  if (!password.empty())
    req += user.empty() ? resp_command({"AUTH", password}) : resp_command({"AUTH", user, password});
  req += resp_command({"PING"});
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return false;
  std::string in;
  char buf[512];
  while (in.find("PONG") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, left_ms()) <= 0) return false;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    in.append(buf, static_cast<size_t>(n));
    if (in.find("-ERR") != std::string::npos || in.find("-WRONGPASS") != std::string::npos ||
        in.find("-NOAUTH") != std::string::npos)
      return false;
  }
  return true;
}

RealProber::RealProber(const std::string& ca_file, std::chrono::milliseconds timeout) : timeout_(timeout) {
  net::ClientConfig c;
  c.ca_file = ca_file;
  c.connect_timeout = timeout;
  c.max_idle_per_host = 2;
  http_ = std::make_unique<net::HttpsClient>(c);
}

RealProber::~RealProber() = default;

bool RealProber::https_ok(const std::string& host, int port, const std::string& path) {
  net::ClientRequest r;
  r.url = "https://" + host + ":" + std::to_string(port) + path;
  r.timeout = timeout_;
  try {
    return http_->send(r).status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

bool RealProber::ready(const ChildSpec& c) {
  switch (c.probe) {
    case ProbeKind::Postgres:
      if (!store::pg_accepts("127.0.0.1", static_cast<uint16_t>(c.port), c.user, c.password, timeout_))
        return false;
      if (!databases_ensured_) {
        store::pg_ensure_databases("127.0.0.1", static_cast<uint16_t>(c.port), c.user, c.password,
                                   c.databases);
        databases_ensured_ = true;
      }
      if (!roles_ensured_ && !c.db_roles.empty() && !c.databases.empty()) {
        // The schema and each service's role, as the owner: services connect with their own roles only.
        try {
          pqxx::connection conn(store::pg_conninfo("127.0.0.1", static_cast<uint16_t>(c.port),
                                                   c.databases.front(), c.user, c.password, 5));
          ensure_db_roles(conn, c.db_roles);
          roles_ensured_ = true;
          spdlog::info("postgres: schema migrated; roles and grants of {} services in place",
                       c.db_roles.size());
        } catch (const std::exception& e) {
          spdlog::warn("postgres: cannot migrate or set the services' roles yet: {}", e.what());
          return false;
        }
      }
      return true;
    case ProbeKind::Redis:
      return redis_ping(c.port, c.password, timeout_);
    case ProbeKind::Https:
      return https_ok(c.host, c.port, c.ready_path);
  }
  return false;
}

std::optional<int64_t> RealProber::ready_pid(const ChildSpec& c) {
  if (c.probe != ProbeKind::Https) return std::nullopt;
  net::ClientRequest r;
  r.url = "https://" + c.host + ":" + std::to_string(c.port) + c.ready_path;
  r.timeout = timeout_;
  r.headers.set("Connection", "close");  // the next probe is a new connection: either process may take it
  try {
    auto resp = http_->send(r);
    if (resp.status != 200) return std::nullopt;
    Json j = Json::parse(resp.body, nullptr, false);
    if (!j.is_object() || !j.contains("pid") || !j["pid"].is_number_integer()) return std::nullopt;
    return j["pid"].get<int64_t>();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool RealProber::live(const ChildSpec& c) {
  if (c.probe == ProbeKind::Https) return https_ok(c.host, c.port, c.live_path);
  return ready(c);
}

}  // namespace dive::orch
