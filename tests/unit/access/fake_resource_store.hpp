#pragma once
// The documents table behind documents::ResourceStore, in memory: the list's pre-filter and cursor as the
// SQL of documents/resource_store.cpp has them (newest first), and a switch for each failure the store
// reports (down, a commit in doubt). Single-threaded (a test's).
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "common/encoding.hpp"
#include "documents/resource_store.hpp"

namespace dive::access::testing {

class FakeResourceStore : public documents::ResourceStore {
 public:
  std::vector<documents::StoredResource> rows;  // in insertion order (seq ascending)
  std::optional<documents::KasKey> kas_key;     // the kas's active key; nullopt: not created yet
  bool down = false;                            // every call throws StoreUnavailable
  bool in_doubt = false;                        // insert throws StoreInDoubt (after storing the rows)
  std::vector<documents::ListFilter> lists;     // the filters list() was called with
  int text_calls = 0;                           // ztdf_texts() calls

  // A row for `ztdf_text` as the database would keep it: the next seq, the text's hash.
  documents::StoredResource& add(std::string ztdf_text, std::string title) {
    return add_row(documents::stored_from_ztdf(std::move(ztdf_text), std::move(title), "owner", "seed", ""));
  }
  // `row` as given, with the next seq and the hash of its text.
  documents::StoredResource& add_row(documents::StoredResource row) {
    row.seq = next_seq_++;
    row.ztdf_sha256 = sha256_hex(row.ztdf);
    rows.push_back(std::move(row));
    return rows.back();
  }

  std::optional<documents::StoredResource> find(const std::string& resource_id, bool with_ztdf) override {
    check();
    for (const auto& r : rows)
      if (r.resource_id == resource_id) return copy(r, with_ztdf);
    return std::nullopt;
  }

  std::map<std::string, std::string> ztdf_texts(const std::vector<std::string>& ids) override {
    check();
    ++text_calls;
    std::map<std::string, std::string> out;
    for (const auto& r : rows)
      if (std::find(ids.begin(), ids.end(), r.resource_id) != ids.end()) out.emplace(r.resource_id, r.ztdf);
    return out;
  }

  std::vector<documents::StoredResource> list(const documents::ListFilter& f) override {
    check();
    lists.push_back(f);
    std::vector<documents::StoredResource> out;
    for (auto it = rows.rbegin(); it != rows.rend() && static_cast<int>(out.size()) < f.limit; ++it)
      if (matches(*it, f)) out.push_back(copy(*it, f.with_ztdf));
    return out;
  }

  size_t insert(const std::vector<documents::StoredResource>& batch) override {
    check();
    size_t n = 0;
    for (const auto& r : batch) {
      if (find(r.resource_id, false)) continue;
      add_row(r);
      ++n;
    }
    if (in_doubt) throw documents::StoreInDoubt("the connection was lost during COMMIT");
    return n;
  }

  std::optional<documents::KasKey> active_kas_key() override {
    check();
    return kas_key;
  }

 private:
  void check() const {
    if (down) throw documents::StoreUnavailable("the database is down");
  }

  static documents::StoredResource copy(const documents::StoredResource& r, bool with_ztdf) {
    documents::StoredResource c = r;
    if (!with_ztdf) c.ztdf.clear();
    return c;
  }

  static bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }

  static std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  }

  // The WHERE clause of list_resources.
  static bool matches(const documents::StoredResource& r, const documents::ListFilter& f) {
    const int level = static_cast<int>(r.label.classification);
    return contains(r.label.releasability_to, f.country) && (!f.max_level || level <= *f.max_level) &&
           (f.query.empty() || lower(r.title).find(lower(f.query)) != std::string::npos) &&
           (!f.classification || level == *f.classification) &&
           (f.coi.empty() || contains(r.label.coi, f.coi)) &&
           (f.releasable_to.empty() || contains(r.label.releasability_to, f.releasable_to)) &&
           (!f.before_seq || r.seq < *f.before_seq);
  }

  int64_t next_seq_ = 1;
};

}  // namespace dive::access::testing
