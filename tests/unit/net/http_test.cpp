#include "net/http.hpp"

#include <gtest/gtest.h>

#include <set>

#include "net/https_client.hpp"
#include "net/url.hpp"

using namespace dive;
using namespace dive::net;

TEST(Headers, CaseInsensitiveAndOrdered) {
  Headers h;
  h.add("Content-Type", "a");
  h.add("X-Two", "1");
  h.add("x-two", "2");
  EXPECT_EQ(h.get("content-type"), "a");
  EXPECT_EQ(h.get("X-TWO"), "1");  // first wins
  EXPECT_TRUE(h.has("x-Two"));
  EXPECT_FALSE(h.has("missing"));
  EXPECT_EQ(h.get("missing"), std::nullopt);
  h.set("X-TWO", "3");
  ASSERT_EQ(h.all().size(), 2u);
  EXPECT_EQ(h.all()[0].first, "Content-Type");
  EXPECT_EQ(h.all()[1], (std::pair<std::string, std::string>("X-TWO", "3")));
  EXPECT_TRUE(h.remove("content-type"));
  EXPECT_FALSE(h.remove("content-type"));
  EXPECT_EQ(h.size(), 1u);
}

TEST(Request, BearerToken) {
  Request r;
  EXPECT_EQ(r.bearer_token(), std::nullopt);
  r.headers.set("Authorization", "Bearer abc.def.ghi");
  EXPECT_EQ(r.bearer_token(), "abc.def.ghi");
  r.headers.set("authorization", "bEaReR   tok  ");
  EXPECT_EQ(r.bearer_token(), "tok");
  r.headers.set("Authorization", "Basic dXNlcjpwdw==");
  EXPECT_EQ(r.bearer_token(), std::nullopt);
  r.headers.set("Authorization", "Bearer ");
  EXPECT_EQ(r.bearer_token(), std::nullopt);
  r.headers.set("Authorization", "Bearertok");
  EXPECT_EQ(r.bearer_token(), std::nullopt);
}

TEST(Request, BearerTokenViewAgreesWithTheCopyAndPointsIntoTheHeader) {
  Request r;
  for (const char* h : {"Bearer abc.def.ghi", "bEaReR   tok  ", "\tBearer\tx.y.z\r",
                        "Basic dXNlcjpwdw==", "Bearer ", "Bearer \t ", "Bearertok", "", "Bearer a b"}) {
    r.headers.set("Authorization", h);
    auto copy = r.bearer_token();
    auto view = r.bearer_token_view();
    ASSERT_EQ(copy.has_value(), view.has_value()) << h;
    if (!view) continue;
    EXPECT_EQ(*copy, *view) << h;
    auto header = r.headers.view("Authorization");
    ASSERT_TRUE(header);
    EXPECT_GE(view->data(), header->data()) << "a view, not a copy";
    EXPECT_LE(view->data() + view->size(), header->data() + header->size());
  }
  r.headers.set("Authorization", "Bearer x.y.z");
  EXPECT_EQ(r.bearer_token_view(), "x.y.z");
  EXPECT_EQ(r.headers.view("authorization"), "Bearer x.y.z");
  EXPECT_EQ(r.headers.view("Cookie"), std::nullopt);
}

TEST(Response, Helpers) {
  auto j = Response::json(201, Json{{"a", 1}});
  EXPECT_EQ(j.status, 201);
  EXPECT_EQ(j.headers.get("Content-Type"), "application/json");
  EXPECT_EQ(Json::parse(j.body)["a"], 1);

  auto t = Response::text(200, "hi");
  EXPECT_EQ(t.headers.get("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(t.body, "hi");

  auto e = Response::error(404, "not_found", "nothing here", "rid-1");
  EXPECT_EQ(e.status, 404);
  auto body = Json::parse(e.body);
  EXPECT_EQ(body["error"], "not_found");
  EXPECT_EQ(body["message"], "nothing here");
  EXPECT_EQ(body["requestId"], "rid-1");
}

TEST(HttpHelpers, PercentDecodeAndQuery) {
  EXPECT_EQ(percent_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  auto q = parse_query("a=1&b=x%20y&a=2&flag&=skip&c=d%3De");
  EXPECT_EQ(q["a"], "2");
  EXPECT_EQ(q["b"], "x y");
  EXPECT_EQ(q["flag"], "");
  EXPECT_EQ(q["c"], "d=e");
  EXPECT_EQ(q.count(""), 0u);
}

TEST(HttpHelpers, RequestIds) {
  EXPECT_TRUE(valid_request_id("abc-DEF_1.2"));
  EXPECT_TRUE(valid_request_id(std::string(64, 'a')));
  EXPECT_FALSE(valid_request_id(std::string(65, 'a')));
  EXPECT_FALSE(valid_request_id(""));
  EXPECT_FALSE(valid_request_id("a b"));
  EXPECT_FALSE(valid_request_id("a\r\nX: y"));
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = generate_request_id();
    ASSERT_EQ(id.size(), 16u);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(status_reason(404), "Not Found");
  EXPECT_EQ(status_reason(431), "Request Header Fields Too Large");
}

TEST(Url, Parses) {
  auto u = parse_url("https://LocalHost:8443/a/b?x=1#frag");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.target, "/a/b?x=1");
  auto v = parse_url("http://[::1]");
  EXPECT_EQ(v.host, "::1");
  EXPECT_EQ(v.port, 80);
  EXPECT_EQ(v.target, "/");
  EXPECT_EQ(parse_url("https://h?q=1").target, "/?q=1");
  EXPECT_EQ(parse_url("https://h").port, 443);
}

TEST(Url, RejectsBadUrls) {
  for (const char* bad :
       {"", "localhost:80/x", "ftp://h/", "https://", "https://:80/", "https://h:0/", "https://h:70000/",
        "https://h:8x/", "https://user@h/", "https://h/a b", "https://[::1/"}) {
    try {
      parse_url(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const TransportError& e) {
      EXPECT_EQ(e.kind(), TransportError::Kind::BadUrl) << bad;
    }
  }
}

TEST(ClientResponse, Json) {
  ClientResponse r;
  r.body = R"({"ok":true})";
  EXPECT_TRUE(r.json()["ok"].get<bool>());
  r.body = "{nope";
  EXPECT_THROW(r.json(), std::invalid_argument);
}
