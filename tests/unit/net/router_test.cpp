#include <gtest/gtest.h>

#include "net/http.hpp"
#include "net/router.hpp"

using namespace dive::net;

namespace {
Handler tag(std::string name) {
  return [name](Request&) { return Response::text(200, name); };
}
std::string run(const Router::Match& m) {
  if (!m.handler) return "";
  Request r;
  return (*m.handler)(r).body;
}
}  // namespace

TEST(Router, LiteralsWinOverParams) {
  Router r;
  r.add("GET", "/api/resources/{id}", tag("by-id"));
  r.add("GET", "/api/resources/search", tag("search"), Exec::Inline);
  auto m = r.match("GET", "/api/resources/search");
  EXPECT_EQ(run(m), "search");
  EXPECT_EQ(m.exec, Exec::Inline);
  EXPECT_EQ(m.pattern, "/api/resources/search");
  auto p = r.match("GET", "/api/resources/doc-1");
  EXPECT_EQ(run(p), "by-id");
  EXPECT_EQ(p.exec, Exec::Worker);
  EXPECT_EQ(p.pattern, "/api/resources/{id}");
  EXPECT_EQ(p.params.at("id"), "doc-1");
}

TEST(Router, BacktracksFromLiteralToParam) {
  Router r;
  r.add("GET", "/a/b/c", tag("abc"));
  r.add("GET", "/a/{x}/d", tag("xd"));
  EXPECT_EQ(run(r.match("GET", "/a/b/c")), "abc");
  auto m = r.match("GET", "/a/b/d");
  EXPECT_EQ(run(m), "xd");
  EXPECT_EQ(m.params.at("x"), "b");
}

TEST(Router, MultipleParamsAndDecoding) {
  Router r;
  r.add("POST", "/orgs/{org}/users/{user}", tag("u"));
  auto m = r.match("POST", "/orgs/nato%20hq/users/a%2Fb");
  EXPECT_EQ(run(m), "u");
  EXPECT_EQ(m.params.at("org"), "nato hq");
  EXPECT_EQ(m.params.at("user"), "a/b");                    // an encoded slash stays inside the parameter
  EXPECT_FALSE(r.match("POST", "/orgs//users/x").handler);  // params never match an empty segment
}

TEST(Router, Wildcard) {
  Router r;
  r.add("GET", "/static/*", tag("static"));
  r.add("GET", "/static/index.html", tag("index"));
  auto m = r.match("GET", "/static/css/site.css");
  EXPECT_EQ(run(m), "static");
  EXPECT_EQ(m.params.at("*"), "css/site.css");
  EXPECT_EQ(run(r.match("GET", "/static/index.html")), "index");
  auto root = r.match("GET", "/static");
  EXPECT_EQ(run(root), "static");
  EXPECT_EQ(root.params.at("*"), "");
  EXPECT_FALSE(r.match("GET", "/other/x").handler);
}

TEST(Router, NotFoundAndMethodNotAllowed) {
  Router r;
  r.add("GET", "/items/{id}", tag("get"));
  r.add("DELETE", "/items/{id}", tag("del"));
  auto nf = r.match("GET", "/nothing");
  EXPECT_FALSE(nf.handler);
  EXPECT_FALSE(nf.path_exists);
  auto na = r.match("PUT", "/items/7");
  EXPECT_FALSE(na.handler);
  EXPECT_TRUE(na.path_exists);
  EXPECT_EQ(r.allowed_methods("/items/7"), (std::vector<std::string>{"DELETE", "GET", "HEAD"}));
  EXPECT_TRUE(r.allowed_methods("/nothing").empty());
}

TEST(Router, MethodMatchPreferredOverCloserPath) {
  Router r;
  r.add("GET", "/a/b", tag("literal-get"));
  r.add("POST", "/a/{x}", tag("param-post"));
  EXPECT_EQ(run(r.match("POST", "/a/b")), "param-post");
  EXPECT_EQ(run(r.match("GET", "/a/b")), "literal-get");
}

TEST(Router, HeadFallsBackToGetAndTrailingSlash) {
  Router r;
  r.add("GET", "/health/live", tag("live"));
  r.add("GET", "/", tag("root"));
  EXPECT_EQ(run(r.match("HEAD", "/health/live")), "live");
  EXPECT_EQ(run(r.match("GET", "/health/live/")), "live");
  EXPECT_EQ(run(r.match("GET", "/")), "root");
  EXPECT_FALSE(r.match("GET", "").handler);
  EXPECT_FALSE(r.match("GET", "health/live").handler);
}

TEST(Router, RejectsBadPatterns) {
  Router r;
  EXPECT_THROW(r.add("GET", "nope", tag("x")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/*/b", tag("x")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/{}", tag("x")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/{x", tag("x")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a//b", tag("x")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a", Handler{}), std::invalid_argument);
  r.add("GET", "/a/{x}", tag("x"));
  EXPECT_THROW(r.add("GET", "/a/{x}", tag("x")), std::invalid_argument);
  r.add("GET", "/a/{y}/z", tag("y"));  // another name at the same position is fine
  EXPECT_EQ(r.match("GET", "/a/1/z").params.at("y"), "1");
  EXPECT_EQ(r.match("GET", "/a/1").params.at("x"), "1");
}
