// The console's asset table (built-in files and synthetic ones), Content-Types, ETags and conditional GET,
// and its routes on a router (no server: the handlers are called as the server would).
#include <gtest/gtest.h>

#include <algorithm>

#include "common/encoding.hpp"
#include "net/router.hpp"
#include "web/assets.hpp"
#include "web/console_routes.hpp"

using namespace dive;
using namespace dive::web;

namespace {

net::Response call(const net::Router& router, const std::string& method, const std::string& path,
                   const std::string& if_none_match = "") {
  auto m = router.match(method, path);
  if (!m.handler) return net::Response::text(m.path_exists ? 405 : 404, "");
  net::Request req;
  req.method = method;
  req.path = path;
  req.params = m.params;
  req.request_id = "test";
  if (!if_none_match.empty()) req.headers.set("If-None-Match", if_none_match);
  return (*m.handler)(req);
}

}  // namespace

TEST(WebAssets, TheBinaryCarriesTheConsolesFilesWithKnownTypes) {
  auto table = AssetTable::builtin();
  auto names = table->names();
  for (const char* n : {"index.html", "app.js", "style.css"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  for (const auto& n : names) {
    const Asset* a = table->find(n);
    ASSERT_NE(a, nullptr) << n;
    EXPECT_FALSE(a->body.empty()) << n;
    EXPECT_NE(a->content_type, "application/octet-stream") << n << ": add its type to content_type_for";
  }
  EXPECT_EQ(table->find("app.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(table->find("style.css")->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(table->find("index.html")->content_type, "text/html; charset=utf-8");
}

TEST(WebAssets, TheStartPageHasASignInButtonAndNoInlineCodeOrForeignOrigin) {
  const std::string html(AssetTable::builtin()->find("index.html")->body);
  EXPECT_NE(html.find(">Sign in</button>"), std::string::npos);
  EXPECT_NE(html.find("DIVE"), std::string::npos);
  EXPECT_NE(html.find(R"(<script type="module" src="/assets/app.js"></script>)"), std::string::npos);
  EXPECT_NE(html.find(R"(href="/assets/style.css")"), std::string::npos);
  // The CSP forbids inline script and style: the page must not need them.
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<style"), std::string::npos);
  EXPECT_EQ(html.find("style=\""), std::string::npos);
  for (const char* attr : {"onclick=", "onload=", "onsubmit=", "javascript:"})
    EXPECT_EQ(html.find(attr), std::string::npos) << attr;
  for (const auto& n : AssetTable::builtin()->names()) {
    const std::string body(AssetTable::builtin()->find(n)->body);
    EXPECT_EQ(body.find("http://"), std::string::npos) << n << " refers to another origin";
    EXPECT_EQ(body.find("https://"), std::string::npos) << n << " refers to another origin";
  }
}

TEST(WebAssets, ContentTypesByExtension) {
  EXPECT_EQ(content_type_for("a.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("x.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("f.woff2"), "font/woff2");
  EXPECT_EQ(content_type_for("noext"), "application/octet-stream");
  EXPECT_EQ(content_type_for("archive.tar.gz"), "application/octet-stream");
}

TEST(WebAssets, EtagIsTheContentHashAndDuplicatesAreRefused) {
  static const std::string bytes = std::string("a\0b", 3);
  AssetTable t({{"x.txt", bytes}, {"empty.css", ""}});
  const Asset* x = t.find("x.txt");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->body.size(), 3u) << "binary-safe";
  EXPECT_EQ(x->etag, "\"" + sha256_hex(bytes).substr(0, 32) + "\"");
  EXPECT_NE(t.find("empty.css")->etag, x->etag);
  EXPECT_EQ(t.find("nope"), nullptr);
  EXPECT_THROW((AssetTable({{"a.js", "1"}, {"a.js", "2"}})), std::invalid_argument);
}

TEST(WebAssets, IfNoneMatchFollowsRfc9110) {
  EXPECT_TRUE(etag_matches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches(" \"x\" ,\t\"abc\" ", "\"abc\""));
  EXPECT_TRUE(etag_matches("*", "\"abc\""));
  EXPECT_FALSE(etag_matches("\"abcd\"", "\"abc\""));
  EXPECT_FALSE(etag_matches("abc", "\"abc\""));
  EXPECT_FALSE(etag_matches("", "\"abc\""));
  EXPECT_FALSE(etag_matches(",,", "\"abc\""));
}

TEST(WebConsoleRoutes, IndexAssetsNotFoundAndNotModified) {
  net::Router router;
  add_console_routes(router, AssetTable::builtin());
  auto index = call(router, "GET", "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.headers.get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.body, std::string(AssetTable::builtin()->find("index.html")->body));
  const std::string etag = *index.headers.get("ETag");
  // The page is never stored (a signed-out browser's back button must not bring a copy back); assets are
  // revalidated.
  EXPECT_EQ(index.headers.get("Cache-Control"), "no-store");

  auto js = call(router, "GET", "/assets/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.headers.get("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_TRUE(js.headers.has("ETag"));
  EXPECT_EQ(js.headers.get("Cache-Control"), "no-cache");

  auto again = call(router, "GET", "/", etag);
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.headers.get("ETag"), etag);
  EXPECT_EQ(call(router, "GET", "/", "\"stale\"").status, 200);

  auto missing = call(router, "GET", "/assets/nope.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Json::parse(missing.body)["error"], "not_found");
  EXPECT_EQ(call(router, "GET", "/assets/../index.html").status, 404);
  EXPECT_EQ(call(router, "GET", "/elsewhere").status, 404);
  EXPECT_EQ(call(router, "POST", "/").status, 405);
  EXPECT_EQ(call(router, "DELETE", "/assets/app.js").status, 405);
  EXPECT_EQ(router.allowed_methods("/"), (std::vector<std::string>{"GET", "HEAD"}));
}

TEST(WebConsoleRoutes, ATableWithoutIndexIsRefused) {
  net::Router router;
  EXPECT_THROW(
      add_console_routes(router, std::make_shared<AssetTable>(std::vector<EmbeddedFile>{{"a.js", "x"}})),
      std::invalid_argument);
}
