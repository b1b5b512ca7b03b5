#include "policy/rfc3339.hpp"

namespace dive::policy {
namespace {

bool digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads exactly n digits at s[pos]; advances pos.
bool fixed(std::string_view s, size_t& pos, int n, int& out) {
  if (pos + static_cast<size_t>(n) > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    if (!digit(s[pos + k])) return false;
    v = v * 10 + (s[pos + k] - '0');
  }
  pos += static_cast<size_t>(n);
  out = v;
  return true;
}

bool leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in(int month, int64_t year) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && leap(year) ? 29 : kDays[month - 1];
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), after H. Hinnant's days_from_civil.
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

std::optional<int64_t> parse_rfc3339_ns(std::string_view s) {
  size_t p = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!fixed(s, p, 4, year)) return std::nullopt;
  if (p >= s.size() || s[p++] != '-' || !fixed(s, p, 2, month)) return std::nullopt;
  if (p >= s.size() || s[p++] != '-' || !fixed(s, p, 2, day)) return std::nullopt;
  if (p >= s.size() || s[p++] != 'T') return std::nullopt;
  // Hour: one or two digits (Go's stdHour); minutes and seconds: exactly two.
  if (p >= s.size() || !digit(s[p])) return std::nullopt;
  hour = s[p++] - '0';
  if (p < s.size() && digit(s[p])) hour = hour * 10 + (s[p++] - '0');
  if (p >= s.size() || s[p++] != ':' || !fixed(s, p, 2, minute)) return std::nullopt;
  if (p >= s.size() || s[p++] != ':' || !fixed(s, p, 2, second)) return std::nullopt;
  int64_t nanos = 0;
  if (p + 1 < s.size() && (s[p] == '.' || s[p] == ',') && digit(s[p + 1])) {
    ++p;
    int n = 0;
    while (p < s.size() && digit(s[p])) {
      if (n < 9) {
        nanos = nanos * 10 + (s[p] - '0');
        ++n;
      }
      ++p;
    }
    for (; n < 9; ++n) nanos *= 10;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in(month, year)) return std::nullopt;
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  int64_t offset = 0;
  if (p < s.size() && s[p] == 'Z') {
    ++p;
  } else {
    if (p >= s.size() || (s[p] != '+' && s[p] != '-')) return std::nullopt;
    const bool neg = s[p++] == '-';
    int oh = 0, om = 0;
    if (!fixed(s, p, 2, oh) || p >= s.size() || s[p++] != ':' || !fixed(s, p, 2, om)) return std::nullopt;
    if (oh > 24 || om > 60) return std::nullopt;
    offset = (oh * 60 + om) * 60;
    if (neg) offset = -offset;
  }
  if (p != s.size()) return std::nullopt;
  const int64_t secs =
      days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  const __int128 ns = static_cast<__int128>(secs) * 1'000'000'000 + nanos;
  if (ns > INT64_MAX || ns < INT64_MIN) return std::nullopt;
  return static_cast<int64_t>(ns);
}

}  // namespace dive::policy
