#pragma once
// The router of the HTTPS server (src/net/router.cpp): which handler answers a method and path, and on which
// thread it runs.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/http.hpp"

namespace dive::net {

// Inline: CPU-only handler, runs on the I/O thread (fast path: policy decisions, /metrics, /health/live).
// Worker: may block (database, outgoing HTTP); runs on the worker thread pool, never on an I/O thread.
enum class Exec { Inline, Worker };

// Routes by method and path pattern. Patterns are "/literal/{param}/literal"; a final "*" segment matches
// the rest of the path (zero or more segments, captured as param "*"). Literal segments win over params,
// params over "*". HEAD falls back to the GET route when no HEAD route exists (the server sends no body).
// add() is not thread-safe; match() is, once all routes are added.
class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Throws std::invalid_argument on a malformed pattern or a duplicate (method, pattern).
  void add(std::string method, std::string pattern, Handler handler, Exec exec = Exec::Worker);

  struct Match {
    const Handler* handler = nullptr;
    Exec exec = Exec::Worker;
    std::string pattern;
    std::map<std::string, std::string> params;
    bool path_exists = false;  // true with handler == nullptr => 405
  };
  // `path` is the raw (percent-encoded) path without the query; it is split on '/' and each segment is
  // decoded after splitting, so "%2F" inside a parameter stays part of that parameter.
  Match match(std::string_view method, std::string_view path) const;
  // Methods registered for the path (sorted; HEAD implied by GET), for the Allow header of a 405.
  std::vector<std::string> allowed_methods(std::string_view path) const;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
};

}  // namespace dive::net
