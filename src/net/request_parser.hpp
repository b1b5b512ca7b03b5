#pragma once
// An HTTP/1.1 request parser (Beast's basic_parser) that writes straight into a reused dive::net::Request,
// so a keep-alive connection parses without building an intermediate Beast message (internal).
#include <boost/beast/http/basic_parser.hpp>

#include <string_view>

#include "common/strings.hpp"
#include "net/http.hpp"
#include "net/url.hpp"

namespace dive::net::detail {

namespace http = boost::beast::http;

class RequestParser final : public http::basic_parser<true> {
 public:
  RequestParser(Request& req, size_t max_header, size_t max_body) : req_(req) {
    header_limit(static_cast<std::uint32_t>(std::min<size_t>(max_header, UINT32_MAX)));
    body_limit(static_cast<std::uint64_t>(max_body));
    eager(true);
  }
  bool expect_continue() const { return expect_continue_; }
  int version() const { return version_; }
  std::string_view raw_path() const { return std::string_view(req_.target).substr(0, path_len_); }

 private:
  void on_request_impl(http::verb, boost::beast::string_view method, boost::beast::string_view target,
                       int version, boost::beast::error_code&) override {
    req_.method.assign(method.data(), method.size());
    req_.target.assign(target.data(), target.size());
    version_ = version;
    std::string_view t(req_.target);
    size_t q = t.find('?');
    path_len_ = q == std::string_view::npos ? t.size() : q;
    size_t hash = t.find('#');  // never sent by well-behaved clients; ignore a fragment
    if (hash != std::string_view::npos && hash < path_len_) path_len_ = hash;
    req_.path = percent_decode(t.substr(0, path_len_));
    if (q != std::string_view::npos) {
      std::string_view query = t.substr(q + 1);
      if (size_t h = query.find('#'); h != std::string_view::npos) query = query.substr(0, h);
      req_.query = parse_query(query);
    }
  }
  void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code&) override {}
  void on_field_impl(http::field name, boost::beast::string_view name_string, boost::beast::string_view value,
                     boost::beast::error_code&) override {
    std::string_view v(value.data(), value.size());
    if (name == http::field::expect) {
      if (iequals(v, "100-continue")) expect_continue_ = true;
    } else if (req_.request_id.empty() &&
               iequals(std::string_view(name_string.data(), name_string.size()), "X-Request-Id") &&
               valid_request_id(v)) {
      req_.request_id.assign(v);
    }
    req_.headers.add(std::string(name_string.data(), name_string.size()), std::string(v));
  }
  void on_header_impl(boost::beast::error_code&) override {}
  // Beast 1.74 calls this even after finding a Content-Length over body_limit (eager mode, body bytes in the
  // same buffer), with the error set: keep it, and never reserve what the client merely announced.
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         boost::beast::error_code& ec) override {
    if (ec) return;
    if (content_length)
      req_.body.reserve(static_cast<size_t>(std::min<std::uint64_t>(*content_length, kMaxReserve)));
  }
  std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, boost::beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                 boost::beast::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(boost::beast::error_code&) override {}

  static constexpr std::uint64_t kMaxReserve = 1024 * 1024;
  Request& req_;
  size_t path_len_ = 0;
  int version_ = 11;
  bool expect_continue_ = false;
};

}  // namespace dive::net::detail
