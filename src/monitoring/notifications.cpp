#include "monitoring/notifications.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <stdexcept>

#include "common/mutex.hpp"

namespace dive::monitoring {

namespace {
Json string_map(const Json& j, const char* what) {
  if (j.is_null()) return Json::object();
  if (!j.is_object()) throw std::invalid_argument(std::string(what) + " must be an object");
  Json out = Json::object();
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string())
      throw std::invalid_argument(std::string(what) + "." + it.key() + " must be a string");
    out[it.key()] = it.value();
  }
  return out;
}

std::string status_of(const Json& j, const char* what) {
  const std::string s = j.is_string() ? j.get<std::string>() : "";
  if (s != "firing" && s != "resolved")
    throw std::invalid_argument(std::string(what) + " must be \"firing\" or \"resolved\"");
  return s;
}
}  // namespace

Json notification_record(const Json& payload, int64_t received_ms) {
  if (!payload.is_object()) throw std::invalid_argument("the notification must be a JSON object");
  if (payload.value("version", "") != "4")
    throw std::invalid_argument("unsupported webhook version (Alertmanager sends \"4\")");
  if (!payload.contains("receiver") || !payload["receiver"].is_string())
    throw std::invalid_argument("receiver must be a string");
  if (!payload.contains("alerts") || !payload["alerts"].is_array())
    throw std::invalid_argument("alerts must be a list");
  Json alerts = Json::array();
  for (const auto& a : payload["alerts"]) {
    if (!a.is_object()) throw std::invalid_argument("every alert must be an object");
    Json labels = string_map(a.value("labels", Json()), "labels");
    if (!labels.contains("alertname")) throw std::invalid_argument("an alert has no alertname label");
    alerts.push_back(Json{{"status", status_of(a.value("status", Json()), "alert status")},
                          {"labels", labels},
                          {"annotations", string_map(a.value("annotations", Json()), "annotations")},
                          {"startsAt", a.value("startsAt", "")},
                          {"endsAt", a.value("endsAt", "")},
                          {"fingerprint", a.value("fingerprint", "")}});
  }
  return Json{{"receivedAt", received_ms},
              {"receiver", payload["receiver"]},
              {"status", status_of(payload.value("status", Json()), "status")},
              {"groupLabels", string_map(payload.value("groupLabels", Json()), "groupLabels")},
              {"alerts", alerts}};
}

NotificationLog::NotificationLog(std::filesystem::path file, uint64_t max_bytes)
    : file_(std::move(file)), max_bytes_(max_bytes) {}

void NotificationLog::append(const Json& record) {
  const std::string line = record.dump() + "\n";
  MutexLock lock(mu_);
  std::error_code ec;
  if (auto size = std::filesystem::file_size(file_, ec); !ec && size + line.size() > max_bytes_)
    std::filesystem::rename(file_, file_.string() + ".1", ec);
  int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) throw std::runtime_error("cannot open " + file_.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      throw std::runtime_error("cannot write " + file_.string() + ": " + std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) throw std::runtime_error("cannot flush " + file_.string() + ": " + std::strerror(e));
}

std::vector<Json> NotificationLog::read(const std::filesystem::path& file, size_t limit) {
  std::deque<Json> out;
  for (const auto& path : {std::filesystem::path(file.string() + ".1"), file}) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      try {
        out.push_back(Json::parse(line));
      } catch (const Json::parse_error&) {
        continue;  // a torn last line after a crash
      }
      if (limit > 0 && out.size() > limit) out.pop_front();
    }
  }
  return {out.begin(), out.end()};
}

}  // namespace dive::monitoring
