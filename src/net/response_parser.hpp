#pragma once
// An HTTP/1.1 response parser (Beast's basic_parser) that writes straight into a ClientResponse (internal).
//
// Beast 1.74 loses the body_limit error of an over-long Content-Length in eager mode when body bytes follow
// the header in the same buffer: it goes on to call on_body_init_impl with the error still set, and Beast's
// own string body clears it after reserving the announced length. Here the error is kept (so the parse
// stops) and nothing is reserved beyond a small bound.
#include <boost/beast/http/basic_parser.hpp>

#include "net/https_client.hpp"

namespace dive::net::detail {

namespace http = boost::beast::http;

class ResponseParser final : public http::basic_parser<false> {
 public:
  ResponseParser(ClientResponse& resp, std::uint32_t max_header, std::uint64_t max_body) : resp_(resp) {
    header_limit(max_header);
    body_limit(max_body);
  }

 private:
  static constexpr std::uint64_t kMaxReserve = 1024 * 1024;

  void on_request_impl(http::verb, boost::beast::string_view, boost::beast::string_view, int,
                       boost::beast::error_code&) override {}
  void on_response_impl(int code, boost::beast::string_view, int, boost::beast::error_code&) override {
    resp_.status = code;
  }
  void on_field_impl(http::field, boost::beast::string_view name, boost::beast::string_view value,
                     boost::beast::error_code&) override {
    resp_.headers.add(std::string(name.data(), name.size()), std::string(value.data(), value.size()));
  }
  void on_header_impl(boost::beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         boost::beast::error_code& ec) override {
    if (ec) return;  // see above: keep the error
    if (content_length) resp_.body.reserve(static_cast<size_t>(std::min(*content_length, kMaxReserve)));
  }
  std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code&) override {
    resp_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, boost::beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                 boost::beast::error_code&) override {
    resp_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(boost::beast::error_code&) override {}

  ClientResponse& resp_;
};

}  // namespace dive::net::detail
