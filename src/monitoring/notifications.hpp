#pragma once
// The built-in receiver's durable log of Alertmanager notifications (firing and resolved): one JSON object
// per line in $DIVE_HOME/monitoring/notifications.jsonl, appended and fsync'd before the webhook answers
// 200 (Alertmanager retries otherwise, so nothing is lost), rotated once past a size (one old generation
// kept beside it as .1). Read back by `./dive alerts`.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/mutex.hpp"

namespace dive::monitoring {

// What is kept of one webhook notification (Alertmanager's payload, version 4): receivedAt (Unix ms),
// receiver, status, groupLabels, and per alert its status, labels, annotations, startsAt, endsAt and
// fingerprint. Throws std::invalid_argument with the reason when the payload is not such a notification.
Json notification_record(const Json& payload, int64_t received_ms);

// Thread-safe: webhook requests append from any worker thread; mu_ serialises the appends and the rotation
// (it guards the file, not members: file_ and max_bytes_ are fixed).
class NotificationLog {
 public:
  explicit NotificationLog(std::filesystem::path file, uint64_t max_bytes = uint64_t{64} << 20);
  // Appends one record as a line and flushes it to disk; throws std::runtime_error when it cannot.
  void append(const Json& record);
  // The newest `limit` records (0: all), oldest first, from the rotated generation and the current file.
  // Lines that do not parse (a torn write after a crash) are skipped.
  static std::vector<Json> read(const std::filesystem::path& file, size_t limit = 0);

 private:
  std::filesystem::path file_;
  uint64_t max_bytes_;
  Mutex mu_;
};

}  // namespace dive::monitoring
