#pragma once
// A server on an ephemeral loopback port with its own metrics registry, for the net tests.
#include <memory>
#include <string>

#include "metrics/registry.hpp"
#include "net/https_client.hpp"
#include "net/https_server.hpp"
#include "net/router.hpp"
#include "test_pki.hpp"

namespace dive::net::testing {

inline ServerConfig plain_config() {
  ServerConfig c;
  c.service = "test";
  c.io_threads = 2;
  c.worker_threads = 4;
  return c;
}

inline ServerConfig tls_config() {
  ServerConfig c = plain_config();
  c.cert_file = test_pki().cert_file;
  c.key_file = test_pki().key_file;
  return c;
}

inline ClientConfig trusting_client() {
  ClientConfig c;
  c.ca_file = test_pki().ca_file;
  return c;
}

struct TestServer {
  metrics::Registry registry;
  std::shared_ptr<Router> router = std::make_shared<Router>();
  std::unique_ptr<HttpServer> server;

  void start(const ServerConfig& cfg) {
    server = std::make_unique<HttpServer>(cfg, router, &registry);
    server->start();
    scheme = cfg.cert_file.empty() ? "http" : "https";
  }
  uint16_t port() const { return server->port(); }
  std::string url(const std::string& path, const std::string& host = "127.0.0.1") const {
    return scheme + "://" + host + ":" + std::to_string(port()) + path;
  }
  double counter(const std::string& route, const std::string& method, const std::string& status) {
    return registry.counter("dive_v3_http_requests_total", "", {"service", "route", "method", "status"})
        .labels({"test", route, method, status})
        .value();
  }
  double active_connections() {
    return registry.gauge("dive_v3_http_connections_active", "", {"service"}).labels({"test"}).value();
  }
  std::string scheme = "http";
};

// GET /items/{id} (echoes params, route, path, request id and query), DELETE /items/{id}, POST /echo.
inline void add_echo_routes(Router& r) {
  r.add(
      "GET", "/items/{id}",
      [](Request& req) {
        Json j{
            {"id", req.params.at("id")}, {"route", req.route}, {"path", req.path}, {"rid", req.request_id}};
        for (auto& [k, v] : req.query) j["query"][k] = v;
        return Response::json(200, j);
      },
      Exec::Inline);
  r.add("DELETE", "/items/{id}", [](Request&) { return Response::text(204, ""); });
  r.add("POST", "/echo", [](Request& req) {
    Response resp = Response::text(200, req.body, req.headers.get("Content-Type").value_or("none"));
    return resp;
  });
}

inline ClientRequest get(const std::string& url, Millis timeout = Millis(5000)) {
  ClientRequest r;
  r.url = url;
  r.timeout = timeout;
  return r;
}

inline ClientRequest post(const std::string& url, std::string body) {
  ClientRequest r;
  r.method = "POST";
  r.url = url;
  r.body = std::move(body);
  r.headers.set("Content-Type", "application/json");
  return r;
}

}  // namespace dive::net::testing
