#include "common/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "common/json.hpp"

namespace dive {

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  append_json_escaped(out, s);
  return out;
}

namespace {
// %* : the message payload escaped for a JSON string.
class JsonPayloadFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string esc = json_escape(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(esc.data(), esc.data() + esc.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonPayloadFlag>();
  }
};

// %& : the message payload with control characters escaped, so that a client-controlled string (a request
// path with %0a, a header) can never start a forged line or move the cursor in a terminal.
class TextPayloadFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string esc = text_escape(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(esc.data(), esc.data() + esc.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<TextPayloadFlag>();
  }
};
}  // namespace

std::string text_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

void init_logging(const LogOptions& opts) {
  spdlog::sink_ptr sink;
  if (opts.file.empty())
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  else
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(opts.file, false);
  auto logger = std::make_shared<spdlog::logger>(opts.service, sink);
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  std::string svc = json_escape(opts.service);
  if (opts.json) {
    formatter->add_flag<JsonPayloadFlag>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","service":")" + svc +
        R"(","pid":%P,"thread":%t,"msg":"%*"})");
  } else {
    formatter->add_flag<TextPayloadFlag>('&').set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ [" + opts.service +
                                                          "] %&");
  }
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog::level::from_str(opts.level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace dive
