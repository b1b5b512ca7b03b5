#include "metrics/process_metrics.hpp"

#include <gtest/gtest.h>

#include <string>

#include "common/build_info.hpp"

using namespace dive::metrics;

namespace {
double value_of(const std::string& text, const std::string& series) {
  auto at = text.find(series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 1));
}
}  // namespace

TEST(ProcessMetrics, ExportMemoryAndDescriptorsWithTheirLimits) {
  Registry r;
  register_process_metrics(r, "api");
  const std::string text = r.expose();
  const double rss = value_of(text, "dive_v3_process_resident_memory_bytes{service=\"api\"}");
  const double limit = value_of(text, "dive_v3_process_memory_limit_bytes{service=\"api\"}");
  const double fds = value_of(text, "dive_v3_process_open_fds{service=\"api\"}");
  const double max_fds = value_of(text, "dive_v3_process_max_fds{service=\"api\"}");
  EXPECT_GT(rss, 0) << text;
  EXPECT_GT(limit, rss) << text;  // a process that runs fits in what it may use
  EXPECT_GT(fds, 2) << text;      // stdin, stdout, stderr at least
  EXPECT_GE(max_fds, fds) << text;
  EXPECT_GE(value_of(text, "dive_v3_process_uptime_seconds{service=\"api\"}"), 0) << text;
}

TEST(ProcessMetrics, ExportTheBuildVersionAndRevision) {
  Registry r;
  register_process_metrics(r, "pdp");
  const std::string series = std::string("dive_v3_build_info{version=\"") + dive::build_version() +
                             "\",revision=\"" + dive::build_revision() + "\"}";
  EXPECT_EQ(value_of(r.expose(), series), 1) << r.expose();
  EXPECT_FALSE(std::string(dive::build_version()).empty());
  EXPECT_FALSE(std::string(dive::build_revision()).empty());
}
