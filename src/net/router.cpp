// Router: a trie of path segments. Matching walks the raw path without allocating (segments are views into
// it; only segments holding '%' are decoded), trying literal children before the parameter child before a
// trailing "*", and backtracking so that a route matching both path and method wins over a closer one that
// matches the path only.
#include "net/router.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <stdexcept>

#include "net/url.hpp"

namespace dive::net {

namespace {
constexpr size_t kMaxParams = 16;

struct Route {
  Handler handler;
  Exec exec = Exec::Worker;
  std::string pattern;
  std::vector<std::string> param_names;  // in order of the {param} segments
  bool wildcard = false;
};

using RouteMap = std::map<std::string, Route, std::less<>>;  // method -> route
using Captures = std::array<std::string_view, kMaxParams>;
}  // namespace

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;
  RouteMap routes;     // patterns ending at this node
  RouteMap wildcards;  // patterns ending with "/*" after this node
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

namespace {

bool valid_param_name(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

// Splits "/a/b/" into {"a", "b"}; a single trailing slash is ignored; "/" has no segments.
std::vector<std::string_view> pattern_segments(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  std::vector<std::string_view> out;
  size_t pos = 1;
  while (pos < pattern.size()) {
    size_t end = pattern.find('/', pos);
    if (end == std::string_view::npos) end = pattern.size();
    out.push_back(pattern.substr(pos, end - pos));
    pos = end + 1;
  }
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].empty())
      throw std::invalid_argument("route pattern has an empty segment: " + std::string(pattern));
  return out;
}

// One segment of the path: [start, end) in the raw path.
struct Cursor {
  std::string_view path;
  // Returns false at the end of the path (including a lone trailing '/').
  bool next(size_t pos, size_t& seg_start, size_t& seg_end) const {
    if (pos >= path.size()) return false;
    seg_start = pos + 1;  // path[pos] == '/'
    seg_end = path.find('/', seg_start);
    if (seg_end == std::string_view::npos) seg_end = path.size();
    if (seg_start == seg_end && seg_end == path.size()) return false;  // trailing slash
    return true;
  }
};

template <class Fn>
bool with_decoded(std::string_view seg, Fn&& fn) {
  if (seg.find('%') == std::string_view::npos) return fn(seg);
  std::string decoded = percent_decode(seg);
  return fn(std::string_view(decoded));
}

// Depth-first walk over the trie. `visit(routes, ncap, rest)` is called at each terminal reached (rest is the
// wildcard remainder, or nullptr for an exact end); returning true stops the walk. A template over the node
// type so that it can live here while Router::Node stays private.
template <class N, class Visit>
bool walk(const N* n, const Cursor& cur, size_t pos, size_t ncap, Captures& caps, Visit& visit) {
  size_t s = 0, e = 0;
  if (!cur.next(pos, s, e)) {
    if (!n->routes.empty() && visit(n->routes, ncap, nullptr)) return true;
    if (!n->wildcards.empty()) {
      std::string_view rest;
      if (visit(n->wildcards, ncap, &rest)) return true;
    }
    return false;
  }
  std::string_view seg = cur.path.substr(s, e - s);
  if (!n->literals.empty()) {
    bool done = with_decoded(seg, [&](std::string_view key) {
      auto it = n->literals.find(key);
      return it != n->literals.end() && walk(it->second.get(), cur, e, ncap, caps, visit);
    });
    if (done) return true;
  }
  if (n->param && !seg.empty() && ncap < kMaxParams) {
    caps[ncap] = seg;
    if (walk(n->param.get(), cur, e, ncap + 1, caps, visit)) return true;
  }
  if (!n->wildcards.empty()) {
    std::string_view rest = cur.path.substr(s);
    if (visit(n->wildcards, ncap, &rest)) return true;
  }
  return false;
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler, Exec exec) {
  if (method.empty()) throw std::invalid_argument("route method is empty");
  if (!handler) throw std::invalid_argument("route handler is empty: " + pattern);
  auto segs = pattern_segments(pattern);
  Node* n = root_.get();
  Route r;
  r.exec = exec;
  r.pattern = pattern;
  for (size_t i = 0; i < segs.size(); ++i) {
    std::string_view seg = segs[i];
    if (seg == "*") {
      if (i + 1 != segs.size()) throw std::invalid_argument("'*' must be the last segment: " + pattern);
      r.wildcard = true;
      break;
    }
    if (seg.front() == '{') {
      if (seg.back() != '}' || !valid_param_name(seg.substr(1, seg.size() - 2)))
        throw std::invalid_argument("bad route parameter '" + std::string(seg) + "' in " + pattern);
      r.param_names.emplace_back(seg.substr(1, seg.size() - 2));
      if (r.param_names.size() > kMaxParams) throw std::invalid_argument("too many parameters in " + pattern);
      if (!n->param) n->param = std::make_unique<Node>();
      n = n->param.get();
      continue;
    }
    if (seg.find_first_of("{}") != std::string_view::npos)
      throw std::invalid_argument("bad route segment '" + std::string(seg) + "' in " + pattern);
    auto it = n->literals.find(seg);
    if (it == n->literals.end()) it = n->literals.emplace(std::string(seg), std::make_unique<Node>()).first;
    n = it->second.get();
  }
  RouteMap& target = r.wildcard ? n->wildcards : n->routes;
  if (target.count(method)) throw std::invalid_argument("duplicate route " + method + " " + pattern);
  r.handler = std::move(handler);
  target.emplace(std::move(method), std::move(r));
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match m;
  if (path.empty() || path.front() != '/') return m;
  const Route* found = nullptr;
  Cursor cur{path};
  Captures caps{};
  auto visit = [&](const RouteMap& routes, size_t ncap, const std::string_view* rest) {
    auto it = routes.find(method);
    if (it == routes.end() && method == "HEAD") it = routes.find(std::string_view("GET"));
    if (it == routes.end()) {
      m.path_exists = true;
      return false;
    }
    found = &it->second;
    for (size_t i = 0; i < ncap && i < found->param_names.size(); ++i)
      m.params[found->param_names[i]] = percent_decode(caps[i]);
    if (rest) m.params["*"] = percent_decode(*rest);
    return true;
  };
  walk(root_.get(), cur, 0, 0, caps, visit);
  if (found) {
    m.handler = &found->handler;
    m.exec = found->exec;
    m.pattern = found->pattern;
    m.path_exists = true;
  }
  return m;
}

std::vector<std::string> Router::allowed_methods(std::string_view path) const {
  std::set<std::string> methods;
  if (path.empty() || path.front() != '/') return {};
  Cursor cur{path};
  Captures caps{};
  auto visit = [&](const RouteMap& routes, size_t, const std::string_view*) {
    for (const auto& [m, r] : routes) {
      methods.insert(m);
      if (m == "GET") methods.insert("HEAD");
    }
    return false;
  };
  walk(root_.get(), cur, 0, 0, caps, visit);
  return {methods.begin(), methods.end()};
}

}  // namespace dive::net
