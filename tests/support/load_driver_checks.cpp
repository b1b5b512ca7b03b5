// The after-run side of the load driver: recovery, acknowledged writes and the run's verdict.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "common/encoding.hpp"
#include "load_driver.hpp"

namespace dive::testing {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string describe(const LoadSample& s) {
  std::string out = std::string(to_string(s.op)) + " by " + s.user + (s.otp ? "+otp" : "");
  if (!s.doc.empty()) out += " of " + s.doc;
  out += ": HTTP " + std::to_string(s.status);
  if (!s.reason.empty()) out += " (" + s.reason + ")";
  if (!s.detail.empty()) out += " [" + s.detail + "]";
  out += " after " + std::to_string(s.latency().count()) + " ms";
  return out;
}

}  // namespace

unsigned LoadDriver::kind_of(LoadOp op, bool expected_allow) {
  return 1u << (static_cast<unsigned>(op) * 2 + (expected_allow ? 1 : 0));
}

bool LoadDriver::recovered_locked(Clock::time_point since, int n, Clock::time_point* first) const {
  // Only requests that started before the oldest one still in flight (since `since`) are final in order.
  auto busy = in_flight_.lower_bound(since);
  const Clock::time_point limit = busy == in_flight_.end() ? Clock::time_point::max() : *busy;
  struct Seen {
    Clock::time_point start;
    bool ok;
    unsigned kind;
    bool operator<(const Seen& o) const { return start < o.start; }
  };
  std::vector<Seen> v;
  for (const auto& s : samples_)
    if (s.start >= since && s.start < limit)
      v.push_back({s.start, s.ok && !s.leak, kind_of(s.op, s.expected_allow)});
  std::stable_sort(v.begin(), v.end());
  int run = 0;
  unsigned kinds = 0;  // a run must also hold every kind of request the load makes
  for (const auto& x : v) {
    if (!x.ok) {
      run = 0;
      kinds = 0;
      continue;
    }
    if (run++ == 0) *first = x.start;
    kinds |= x.kind;
    if (run >= n && (kinds & kinds_) == kinds_) return true;
  }
  return false;
}

std::optional<milliseconds> LoadDriver::wait_recovered(milliseconds bound, int n) {
  const auto now = Clock::now();
  Clock::time_point since = now;
  {
    std::lock_guard lk(mu_);
    if (!windows_.empty() && windows_.back().end) since = *windows_.back().end;
  }
  const auto limit = since + bound;
  // Requests that start by the bound need up to their client timeout to be answered.
  const auto poll_until = std::max(limit, now) + opts_.deadline + std::chrono::seconds(2);
  Clock::time_point first{};
  bool found = false;
  if (!workers_.empty()) {
    std::unique_lock lk(mu_);
    found = changed_.wait_until(lk, poll_until, [&] { return recovered_locked(since, n, &first); });
  } else if (prepared_) {
    net::HttpsClient http(client_config());
    while (true) {
      {
        std::lock_guard lk(mu_);
        if ((found = recovered_locked(since, n, &first))) break;
      }
      if (Clock::now() > poll_until) break;
      step(http, seq_.fetch_add(1));
      std::this_thread::sleep_for(opts_.pace);  // the deliberate pace
    }
  }
  if (!found || first > limit) return std::nullopt;
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(first - since));
}

int LoadDriver::verify_acknowledged_writes() {
  if (!workers_.empty()) ADD_FAILURE() << "verify_acknowledged_writes() while the load runs";
  std::vector<Written> written;
  {
    std::lock_guard lk(mu_);
    written = written_;
  }
  net::HttpsClient http(client_config());
  // A 503 or no answer is retried (paced) for a while: the system is expected healed by now.
  auto call = [&](const std::string& method, const std::string& path, const std::string& token,
                  const Json& body) {
    const auto until = Clock::now() + 2 * opts_.deadline;
    Reply r = send(http, method, path, token, body);
    while ((r.status == 0 || r.status == 503) && Clock::now() < until) {
      std::this_thread::sleep_for(opts_.pace);
      r = send(http, method, path, token, body);
    }
    return r;
  };
  int checked = 0;
  for (const auto& w : written) {
    ++checked;
    const Principal& p = principals_[w.principal];
    auto r = call("GET", "/api/resources/" + w.id, p.token, Json());
    if (r.status != 200) {
      ADD_FAILURE() << "acknowledged write lost: " << w.id << " by " << p.user << ": read HTTP " << r.status
                    << " " << reason_of(r);
      continue;
    }
    auto k = call("POST", "/api/resources/" + w.id + "/key", p.token, Json::object());
    const std::string content =
        k.status == 200 && k.body.is_object() ? base64_decode(k.body.value("content", "")).value_or("") : "";
    if (k.status != 200 || content != w.plaintext)
      ADD_FAILURE() << "acknowledged write lost: " << w.id << " by " << p.user << ": key HTTP " << k.status
                    << " " << reason_of(k)
                    << (k.status == 200 ? " (content differs from what was uploaded)" : "");
  }
  return checked;
}

bool LoadDriver::expect_clean(milliseconds grace, bool allow_transport_errors) {
  if (!workers_.empty()) ADD_FAILURE() << "expect_clean() while the load runs";
  std::vector<LoadSample> all;
  std::vector<Window> windows;
  {
    std::lock_guard lk(mu_);
    all = samples_;
    windows = windows_;
  }
  if (!windows.empty() && !windows.back().end)
    ADD_FAILURE() << "fault_begins() without fault_ends(): the window would never close";
  auto in_window = [&](const LoadSample& s) {
    for (const auto& w : windows) {
      const auto end = w.end ? *w.end + grace : Clock::time_point::max();
      if (s.end >= w.begin && s.start <= end) return true;
    }
    return false;
  };
  std::map<std::string, std::vector<std::string>> bad;  // kind -> descriptions
  std::map<LoadOp, std::map<int, int>> counts;
  milliseconds max_latency{0};
  std::string slowest;
  int errors_in_window = 0;
  for (const auto& s : all) {
    ++counts[s.op][s.status];
    if (s.latency() > max_latency) max_latency = s.latency(), slowest = describe(s);
    if (s.leak) bad["leak"].push_back(describe(s));
    if (s.latency() > opts_.deadline) bad["answered after the deadline"].push_back(describe(s));
    if (s.ok || s.leak) continue;
    if (s.status == 0 && !allow_transport_errors)
      bad["no answer (transport error or timeout)"].push_back(describe(s));
    else if (s.status != 0 && (s.status != 503 || s.reason.empty()))
      bad["not the table's answer nor a 503 with a reason"].push_back(describe(s));
    if (in_window(s))
      ++errors_in_window;
    else
      bad["error outside the fault window"].push_back(describe(s));
  }
  std::string summary = "[load] " + std::to_string(all.size()) + " requests:";
  for (const auto& [op, by_status] : counts) {
    int total = 0;
    std::string detail;
    for (const auto& [status, c] : by_status) {
      total += c;
      detail += (detail.empty() ? "" : " ") + std::to_string(status) + ":" + std::to_string(c);
    }
    summary += std::string(" ") + to_string(op) + " " + std::to_string(total) + " (" + detail + ")";
  }
  summary += "; max latency " + std::to_string(max_latency.count()) + " ms; errors in fault windows " +
             std::to_string(errors_in_window) + "; violations";
  size_t violations = 0;
  for (const auto& [kind, list] : bad) violations += list.size();
  summary += " " + std::to_string(violations);
  std::printf("%s\n[load] slowest: %s\n", summary.c_str(), slowest.c_str());
  std::fflush(stdout);
  for (const auto& [kind, list] : bad) {
    std::string examples;
    for (size_t i = 0; i < list.size() && i < 5; ++i) examples += "\n  " + list[i];
    ADD_FAILURE() << kind << ": " << list.size() << " request(s), e.g." << examples;
  }
  return bad.empty();
}

}  // namespace dive::testing
