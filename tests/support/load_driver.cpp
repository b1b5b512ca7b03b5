#include "load_driver.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <pqxx/pqxx>

#include "common/encoding.hpp"
#include "common/random.hpp"
#include "common/strings.hpp"
#include "documents/kas_keys.hpp"
#include "documents/resource_store.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/layout.hpp"
#include "ztdf/encrypt.hpp"
#include "ztdf/marking.hpp"
#include "ztdf/serialize.hpp"

namespace dive::testing {

using Clock = std::chrono::steady_clock;

namespace {

int level_of(std::string_view c) {
  static const char* const kLevels[] = {"UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP_SECRET"};
  for (int i = 0; i < 5; ++i)
    if (c == kLevels[i]) return i;
  return -1;
}

// ---- The table -----------------------------------------------------------------------------------------
// Columns (principals, in this order): testuser-c-1 UNCLASSIFIED without OTP (AAL1) | -3 CONFIDENTIAL with
// OTP | -4 SECRET, COI NATO, with OTP | -5 TOP_SECRET, NATO+FVEY (spokes NATO-COSMIC+FVEY), with OTP | -5
// without OTP (AAL1). Letters: A allow; C insufficient clearance (level above the user's); L authentication
// strength (a classified document needs AAL2: acr "0" with one factor is refused; UNCLASSIFIED is exempt);
// O COI (a user without COIs is refused any COI, coi_requires_membership; ALL needs every COI, ANY one);
// R releasability (the user's country is not in releasabilityTo). The first failing check in the policy's
// order (clearance, AAL, releasability, COI) gives the reason. "*" in releasabilityTo is the instance's
// country; "~" a country that is not (the API refuses an upload not releasable to the uploader's own
// country, so that document is stored the way the seeder stores documents: encrypted here to the instance's
// KAS key and inserted into its database).
struct CorpusSpec {
  const char* name;
  const char* classification;
  std::vector<std::string> rel, coi;
  const char* op;
  const char* answers;
};
const std::vector<CorpusSpec>& corpus_table() {
  static const std::vector<CorpusSpec> kCorpus = {
      {"unclassified", "UNCLASSIFIED", {"*"}, {}, "ALL", "AAAAA"},
      {"confidential", "CONFIDENTIAL", {"*", "GBR"}, {}, "ALL", "CAAAL"},
      {"secret-nato-or-fvey", "SECRET", {"*", "GBR", "FRA", "DEU"}, {"NATO", "FVEY"}, "ANY", "CCAAL"},
      {"secret-fvey", "SECRET", {"*", "GBR", "CAN", "AUS", "NZL"}, {"FVEY"}, "ALL", "CCOAL"},
      {"top-secret", "TOP_SECRET", {"*"}, {}, "ALL", "CCCAL"},
      {"unclassified-coi", "UNCLASSIFIED", {"*", "GBR"}, {"NATO", "FVEY"}, "ANY", "OOAAA"},
      {"not-releasable", "UNCLASSIFIED", {"~"}, {}, "ALL", "RRRRR"},
  };
  return kCorpus;
}
constexpr size_t kUploader = 3;  // the corpus is uploaded by testuser-c-5 with OTP

// A text the policy's reason contains for each refusal letter.
const char* reason_text(char a) {
  switch (a) {
    case 'C':
      return "Insufficient clearance";
    case 'L':
      return "requires AAL2";
    case 'O':
      return "COI operator=";
    case 'R':
      return "not in releasabilityTo";
    default:
      return "";
  }
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
std::vector<std::string> strings_of(const Json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

// Necessary conditions of an allow (docs/POLICY.md checks: clearance, AAL, releasability, COI): false means
// the policy refuses this principal whatever else the document says. Used on every listed item.
bool policy_may_allow(int level, bool otp, const std::vector<std::string>& user_coi,
                      const std::string& country, const Json& item, std::string* why) {
  const std::string cls = item.value("classification", "");
  const int l = level_of(cls);
  if (l > level) return *why = "classification " + cls + " above the user's clearance", false;
  if (l > 0 && !otp) return *why = cls + " without a one-time code (AAL1)", false;
  if (!has(strings_of(item.value("releasabilityTo", Json::array())), country))
    return *why = "not releasable to " + country, false;
  const auto coi = strings_of(item.value("COI", Json::array()));
  if (has(coi, "US-ONLY") && user_coi != std::vector<std::string>{"US-ONLY"})
    return *why = "US-ONLY document", false;
  if (!coi.empty()) {
    const std::string op = item.value("coiOperator", "ALL");
    bool all = true, any = false;
    for (const auto& c : coi) {
      if (has(user_coi, c))
        any = true;
      else
        all = false;
    }
    if (op == "ALL" && !all) return *why = "COI (ALL) not held by the user", false;
    if (op == "ANY" && !any) return *why = "COI (ANY) not shared with the user", false;
  }
  return true;
}

}  // namespace

const char* to_string(LoadOp op) {
  switch (op) {
    case LoadOp::Read:
      return "read";
    case LoadOp::List:
      return "list";
    case LoadOp::Key:
      return "key";
    case LoadOp::Upload:
      return "upload";
  }
  return "?";
}

LoadDriver::LoadDriver(const DiveCli& cli, LoadOptions o)
    : cli_(cli), own_api_(std::make_unique<ApiClient>(cli, o.code)), api_(*own_api_), opts_(std::move(o)) {
  init();
}

LoadDriver::LoadDriver(const DiveCli& cli, const ApiClient& api, LoadOptions o)
    : cli_(cli), api_(api), opts_(std::move(o)) {
  init();
}

void LoadDriver::init() {
  api_url_ = api_.config()["urls"].value("api", "");
  kas_url_ = api_.config()["urls"].value("kas", "");
  for (char ch : secure_token(9))  // letters and digits only: it is searched for in titles
    if (std::isalnum(static_cast<unsigned char>(ch))) tag_ += ch;
  const std::string c = to_lower(opts_.code);
  const std::string nato5 = opts_.code == "USA" ? "NATO" : "NATO-COSMIC";  // -5's COIs differ (seed.json)
  principals_ = {{"testuser-" + c + "-1", false, 0, {}, false, ""},
                 {"testuser-" + c + "-3", true, 2, {}, false, ""},
                 {"testuser-" + c + "-4", true, 3, {"NATO"}, true, ""},
                 {"testuser-" + c + "-5", true, 4, {nato5, "FVEY"}, true, ""},
                 {"testuser-" + c + "-5", false, 4, {nato5, "FVEY"}, false, ""}};
}

LoadDriver::~LoadDriver() {
  stop();
}

net::ClientConfig LoadDriver::client_config() const {
  net::ClientConfig cc;
  cc.ca_file = cli_.ca_file().string();
  return cc;
}

LoadDriver::Reply LoadDriver::send(net::HttpsClient& http, const std::string& method, const std::string& path,
                                   const std::string& token, const Json& body) const {
  net::ClientRequest req;
  req.method = method;
  req.url = api_url_ + path;
  req.timeout = opts_.deadline + std::chrono::seconds(2);
  req.headers.set("Authorization", "Bearer " + token);
  if (!body.is_null()) {
    req.headers.set("Content-Type", "application/json");
    req.body = body.dump();
  }
  Reply r;
  try {
    auto resp = http.send(req);
    r.status = resp.status;
    r.text = std::move(resp.body);
    r.body = Json::parse(r.text, nullptr, false);
    if (r.body.is_discarded()) r.body = nullptr;
  } catch (const net::TransportError& e) {
    r.text = std::string(net::to_string(e.kind())) + ": " + e.what();
  } catch (const std::exception& e) {
    r.text = e.what();
  }
  return r;
}

std::string LoadDriver::reason_of(const Reply& r) {
  if (r.status == 0) return r.text;
  if (r.body.is_object())
    for (const char* k : {"reason", "message", "error"})
      if (auto it = r.body.find(k); it != r.body.end() && it->is_string() && !it->get<std::string>().empty())
        return it->get<std::string>();
  return r.text.substr(0, 200);
}

bool LoadDriver::prepare() {
  if (prepared_) {
    ADD_FAILURE() << "LoadDriver::prepare() called twice";
    return false;
  }
  for (auto& p : principals_) {
    p.token = api_.token(p.user, p.otp);  // ApiClient reports a refusal
    if (p.token.empty()) return false;
  }
  net::HttpsClient http(client_config());
  if (!store_corpus(http)) return false;
  for (size_t i = 0; i < principals_.size(); ++i) schedule_.emplace_back(i, LoadOp::Read);
  if (opts_.keys)
    for (size_t i = 0; i < principals_.size(); ++i) schedule_.emplace_back(i, LoadOp::Key);
  if (opts_.lists)
    for (size_t i = 0; i < principals_.size(); ++i) schedule_.emplace_back(i, LoadOp::List);
  if (opts_.uploads)
    for (size_t i = 0; i < principals_.size(); ++i)
      if (principals_[i].uploader) schedule_.emplace_back(i, LoadOp::Upload);
  for (const auto& [pi, op] : schedule_)
    for (const auto& d : docs_)
      kinds_ |= kind_of(op, op == LoadOp::List || op == LoadOp::Upload || d.answers[pi] == 'A');
  prepared_ = true;
  return check_table(http);
}

bool LoadDriver::store_corpus(net::HttpsClient& http) {
  const std::string other = opts_.code == "GBR" ? "FRA" : "GBR";
  for (const auto& spec : corpus_table()) {
    Doc d{spec.name, "", "", spec.classification, {}, spec.coi, spec.op, spec.answers};
    for (const auto& c : spec.rel) {
      std::string country = c == "*" ? opts_.code : c == "~" ? other : c;
      if (!has(d.rel, country)) d.rel.push_back(country);
    }
    d.plaintext = "load driver corpus " + d.name + " " + tag_ + " " + secure_token(9) + "\n";
    const std::string title = "load-" + tag_ + "-corpus-" + d.name;
    if (opts_.flip_expectation_for_test && d.name == "confidential") d.answers[1] = 'C';
    if (!has(d.rel, opts_.code)) {
      try {  // stored the way the seeder stores documents (see the table's comment)
        pqxx::connection c(orch::instance_db_conninfo(orch::Layout{cli_.home()}.instance(opts_.code)));
        auto kas = documents::active_kas_public_key(c);
        if (!kas) throw std::runtime_error("the kas has no key yet");
        ztdf::SecurityLabel label;
        label.classification = *ztdf::parse_classification(d.classification);
        label.releasability_to = d.rel;
        label.coi = d.coi;
        label.coi_operator = d.op == "ANY" ? ztdf::CoiOperator::kAny : ztdf::CoiOperator::kAll;
        label.originating_country = d.rel.front();
        label.creation_date = ztdf::format_timestamp(std::chrono::system_clock::now());
        label.display_marking = ztdf::display_marking(label);
        ztdf::ObjectInfo info;
        info.object_id = "doc-" + opts_.code + "-" + secure_token(12);
        info.owner = "load-driver";
        info.owner_organization = d.rel.front();
        auto obj = ztdf::encrypt(d.plaintext, label, {documents::kas_public_key(*kas, kas_url_)}, info);
        documents::insert_resources(
            c, {documents::stored_from_ztdf(ztdf::serialize(obj), title, info.owner, "upload", "")});
        d.id = info.object_id;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "storing the corpus document " << d.name << ": " << e.what();
        return false;
      }
    } else {
      Json body{{"title", title},
                {"content", base64_encode(d.plaintext)},
                {"classification", d.classification},
                {"releasabilityTo", d.rel},
                {"COI", d.coi},
                {"coiOperator", d.op},
                {"caveats", Json::array()},
                {"releasableToIndustry", false}};
      auto r = send(http, "POST", "/api/resources", principals_[kUploader].token, body);
      if (r.status != 201 || !r.body.is_object() || !r.body.contains("resourceId")) {
        ADD_FAILURE() << "uploading the corpus document " << d.name << ": HTTP " << r.status << " " << r.text;
        return false;
      }
      d.id = r.body["resourceId"].get<std::string>();
    }
    docs_.push_back(std::move(d));
  }
  return true;
}

bool LoadDriver::check_table(net::HttpsClient& http) {
  bool ok = true;
  for (const auto& d : docs_) {
    for (size_t i = 0; i < principals_.size(); ++i) {
      const Principal& p = principals_[i];
      const char a = d.answers[i];
      const std::string who =
          p.user + (p.otp ? " with" : " without") + " OTP on " + d.name + " (" + d.id + ")";
      const std::string says = a == 'A' ? "allow" : std::string("deny: ") + reason_text(a);
      auto r = send(http, "GET", "/api/resources/" + d.id, p.token);
      const std::string reason = reason_of(r);
      const bool read_ok =
          a == 'A' ? r.status == 200 : r.status == 403 && reason.find(reason_text(a)) != std::string::npos;
      if (!read_ok) {
        ADD_FAILURE() << "the system disagrees with the table: read by " << who << ": HTTP " << r.status
                      << " " << reason << "; the table says " << says;
        ok = false;
      }
      auto k = send(http, "POST", "/api/resources/" + d.id + "/key", p.token, Json::object());
      std::string content;
      if (k.status == 200 && k.body.is_object())
        content = base64_decode(k.body.value("content", "")).value_or("");
      const bool key_ok = a == 'A' ? k.status == 200 && content == d.plaintext : k.status == 403;
      if (!key_ok) {
        ADD_FAILURE() << "the system disagrees with the table: key for " << who << ": HTTP " << k.status
                      << " " << reason_of(k)
                      << (k.status == 200 && content != d.plaintext ? " (content differs)" : "")
                      << "; the table says " << says;
        ok = false;
      }
    }
  }
  return ok;
}

void LoadDriver::judge_list(size_t pi, const Reply& r, bool corpus_only, LoadSample& s) const {
  const Principal& p = principals_[pi];
  s.expected_allow = true;
  if (r.status != 200) return;
  if (!r.body.is_object() || !r.body.contains("resources") || !r.body["resources"].is_array()) {
    s.detail = "not a list";
    return;
  }
  std::set<std::string> listed;
  for (const auto& item : r.body["resources"]) {
    const std::string id = item.is_object() ? item.value("resourceId", "") : "";
    listed.insert(id);
    std::string why;
    for (const auto& d : docs_)
      if (d.id == id && d.answers[pi] != 'A') why = "the table says deny";
    if (why.empty() && !policy_may_allow(p.level, p.otp, p.coi, opts_.code, item, &why)) why += " (policy)";
    if (!why.empty()) {
      s.leak = true;
      s.detail += (s.detail.empty() ? "listed " : "; ") + id + ": " + why;
    }
  }
  if (corpus_only)  // the corpus list is exactly the documents the table allows
    for (const auto& d : docs_)
      if (d.answers[pi] == 'A' && !listed.count(d.id))
        s.detail +=
            (s.detail.empty() ? "" : "; ") + std::string("the list misses ") + d.id + " (" + d.name + ")";
  s.ok = !s.leak && s.detail.empty();
}

void LoadDriver::step(net::HttpsClient& http, uint64_t n) {
  const auto [pi, op] = schedule_[n % schedule_.size()];
  const Principal& p = principals_[pi];
  const Doc& d = docs_[(n / schedule_.size()) % docs_.size()];
  LoadSample s;
  s.op = op;
  s.user = p.user;
  s.otp = p.otp;
  if (op == LoadOp::Read || op == LoadOp::Key) s.doc = d.id;
  std::multiset<Clock::time_point>::iterator in_flight;
  {
    std::lock_guard lk(mu_);
    s.start = Clock::now();
    in_flight = in_flight_.insert(s.start);
  }
  Reply r;
  std::string plaintext, title;
  bool corpus_list = false;
  switch (op) {
    case LoadOp::Read:
      r = send(http, "GET", "/api/resources/" + d.id, p.token);
      break;
    case LoadOp::Key:
      r = send(http, "POST", "/api/resources/" + d.id + "/key", p.token, Json::object());
      break;
    case LoadOp::List:  // every other time only the corpus, whose list is known exactly
      corpus_list = (n / schedule_.size()) % 2 == 1;
      r = send(http, "GET",
               "/api/resources?limit=20" + (corpus_list ? "&query=load-" + tag_ + "-corpus-" : ""), p.token);
      break;
    case LoadOp::Upload: {
      title = "load-" + tag_ + "-up-" + std::to_string(uploads_.fetch_add(1));
      plaintext = "load driver upload " + title + " by " + p.user + " " + secure_token(9) + "\n";
      const bool ts = p.level >= 4;  // -5 uploads TOP_SECRET for FVEY, -4 SECRET for NATO
      std::vector<std::string> rel{opts_.code};
      if (!ts && opts_.code != "GBR") rel.push_back("GBR");
      Json body{{"title", title},
                {"content", base64_encode(plaintext)},
                {"classification", ts ? "TOP_SECRET" : "SECRET"},
                {"releasabilityTo", rel},
                {"COI", {ts ? "FVEY" : "NATO"}},
                {"coiOperator", "ALL"},
                {"caveats", Json::array()},
                {"releasableToIndustry", false}};
      r = send(http, "POST", "/api/resources", p.token, body);
      break;
    }
  }
  s.end = Clock::now();
  s.status = r.status;
  if (r.status < 200 || r.status > 299) s.reason = reason_of(r);
  const bool allow = d.answers[pi] == 'A';
  switch (op) {
    case LoadOp::Read:
      s.expected_allow = allow;
      s.leak = r.status == 200 && !allow;
      s.ok = r.status == (allow ? 200 : 403);
      if (s.leak) s.detail = "200 where the table says deny";
      if (r.status == 403 && allow) s.detail = "403 where the table says allow";
      break;
    case LoadOp::Key: {
      s.expected_allow = allow;
      if (r.status == 200) {
        const std::string content =
            r.body.is_object() ? base64_decode(r.body.value("content", "")).value_or("") : "";
        s.leak = !allow || content != d.plaintext;
        s.detail = !allow ? "a key where the table says deny" : s.leak ? "decrypted content differs" : "";
      } else if (r.status == 403 && allow) {
        s.detail = "403 where the table says allow";
      }
      s.ok = !s.leak && r.status == (allow ? 200 : 403);
      break;
    }
    case LoadOp::List:
      judge_list(pi, r, corpus_list, s);
      break;
    case LoadOp::Upload:
      s.expected_allow = true;
      if (r.status == 201 && r.body.is_object() && r.body.value("resourceId", "") != "") {
        s.ok = true;
        std::lock_guard lk(mu_);
        written_.push_back({r.body["resourceId"].get<std::string>(), plaintext, pi});
      }
      break;
  }
  std::lock_guard lk(mu_);
  in_flight_.erase(in_flight);
  samples_.push_back(std::move(s));
  changed_.notify_all();
}

void LoadDriver::run_worker() {
  std::unique_ptr<net::HttpsClient> http;
  try {
    http = std::make_unique<net::HttpsClient>(client_config());
  } catch (const std::exception& e) {
    ADD_FAILURE() << "load worker: " << e.what();
    return;
  }
  std::unique_lock lk(mu_);
  while (!stopping_) {
    lk.unlock();
    step(*http, seq_.fetch_add(1));
    lk.lock();
    stop_cv_.wait_for(lk, opts_.pace, [&] { return stopping_; });  // the deliberate pace
  }
}

void LoadDriver::start() {
  if (!prepared_) {
    ADD_FAILURE() << "LoadDriver::start() before a successful prepare()";
    return;
  }
  if (!workers_.empty()) return;
  {
    std::lock_guard lk(mu_);
    stopping_ = false;
  }
  for (int i = 0; i < opts_.workers; ++i) workers_.emplace_back([this] { run_worker(); });
}

void LoadDriver::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void LoadDriver::fault_begins() {
  std::lock_guard lk(mu_);
  windows_.push_back({Clock::now(), std::nullopt});
}

void LoadDriver::fault_ends() {
  std::lock_guard lk(mu_);
  if (windows_.empty() || windows_.back().end) {
    ADD_FAILURE() << "LoadDriver::fault_ends() without fault_begins()";
    windows_.push_back({Clock::now(), std::nullopt});
  }
  windows_.back().end = Clock::now();
}

std::vector<LoadSample> LoadDriver::samples() const {
  std::lock_guard lk(mu_);
  return samples_;
}

size_t LoadDriver::count() const {
  std::lock_guard lk(mu_);
  return samples_.size();
}

size_t LoadDriver::successes_since(Clock::time_point t) const {
  std::lock_guard lk(mu_);
  return static_cast<size_t>(std::count_if(samples_.begin(), samples_.end(),
                                           [&](const LoadSample& s) { return s.ok && s.start >= t; }));
}

std::vector<std::string> LoadDriver::corpus_ids() const {
  std::vector<std::string> ids;
  for (const auto& d : docs_) ids.push_back(d.id);
  return ids;
}

size_t LoadDriver::acknowledged_writes() const {
  std::lock_guard lk(mu_);
  return written_.size();
}

std::vector<LoadDriver::Acknowledged> LoadDriver::acknowledged_uploads() const {
  std::lock_guard lk(mu_);
  std::vector<Acknowledged> out;
  for (const auto& w : written_)
    out.push_back({w.id, w.plaintext, principals_[w.principal].user, principals_[w.principal].otp});
  return out;
}

}  // namespace dive::testing
