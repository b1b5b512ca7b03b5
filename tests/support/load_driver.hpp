#pragma once
// A load driver for resilience scenarios (issue 12 §3): several seeded users of one instance (different
// clearances, with and without a one-time code) issue reads, list pages, key requests and uploads against
// documents whose correct answer is known in advance, and every answer is recorded with its latency. A
// scenario runs its fault under it and then asserts, through the driver: no leak (never a 200 or a key where
// the policy says no, never content that differs from what was stored), no acknowledged write lost, every
// request answered within its deadline, errors only as 503 with a reason and only during the fault window,
// and the answers as the table says again within a stated recovery bound after healing.
//
//   LoadDriver load(cli, api);                 // api: the scenario's ApiClient (shares its tokens)
//   ASSERT_TRUE(load.prepare());               // tokens, the corpus, every table entry checked once
//   load.start();
//   load.fault_begins();  ... inject the fault ...  heal ...  load.fault_ends();
//   auto rec = load.wait_recovered(20s);
//   EXPECT_TRUE(rec) ...;
//   load.stop();
//   EXPECT_TRUE(load.expect_clean(20s));
//   EXPECT_GT(load.verify_acknowledged_writes(), 0);
//
// The answers are a table in load_driver.cpp, derived from the rules in docs/POLICY.md (clearance, AAL,
// releasability, COI), never learned from the system: prepare() checks every entry once with a real read and
// key request and fails the test when the system disagrees.
//
// Requests: reads (GET /api/resources/<id>) and key requests (POST /api/resources/<id>/key, {}: 200 with the
// base64 content, compared with what was stored, or 403) of the corpus; list pages (GET
// /api/resources?limit=20, every other one restricted to the corpus by its title, which must then list
// exactly the documents the table allows; every listed item must also pass the policy's necessary conditions
// for the user: clearance, AAL, releasability, COI); uploads (POST /api/resources, a unique title; a 201 is
// an acknowledged write, kept with its plaintext for verify_acknowledged_writes()).
//
// Users (instance code C, c = lower case): testuser-c-1 UNCLASSIFIED without a one-time code (AAL1),
// testuser-c-3 CONFIDENTIAL, testuser-c-4 SECRET/NATO and testuser-c-5 TOP_SECRET/NATO+FVEY (spokes:
// NATO-COSMIC+FVEY) with one (AAL2), and testuser-c-5 again without one (AAL1). Uploads during the load are
// made by testuser-c-4 and -5 with their one-time codes.
//
// Threads: start() runs `workers` threads, each with its own net::HttpsClient (verified against the
// deployment's CA, timeout = deadline + 2 s); they share the tokens and the table read-only. Samples are kept
// under a mutex: samples(), count(), successes_since() and the fault_* stamps may be called from any thread
// at any time. Everything else (prepare, start, stop, wait_recovered, verify_acknowledged_writes,
// expect_clean) is for the test's own thread. A shared ApiClient is used only inside prepare(), on the
// calling thread.
//
// Tokens are taken in prepare() and live 900 s: a run must end within ~14 minutes of prepare(). A one-time
// code is accepted once per 30 s step, so a scenario that also needs these users' tokens should pass its
// ApiClient to the constructor (or call token() on it before) rather than log in again.
//
// No sleeps except the deliberate `pace` between one worker's requests; every wait polls with a bound.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api_client.hpp"
#include "dive_cli.hpp"
#include "net/https_client.hpp"

namespace dive::testing {

enum class LoadOp { Read, List, Key, Upload };
const char* to_string(LoadOp);

struct LoadSample {
  LoadOp op = LoadOp::Read;
  std::string user;
  bool otp = false;
  std::string doc;     // doc id ("" for list/upload)
  int status = 0;      // HTTP status, 0 = transport error / client timeout
  std::string reason;  // for non-2xx: the body's reason/message/error text (status 0: the transport error)
  std::chrono::steady_clock::time_point start, end;
  bool leak = false;  // a 200/201/key where the table says deny, or decrypted content that differs
  bool expected_allow = false;
  bool ok = false;     // the answer is the one the table states (a success in wait_recovered's sense)
  std::string detail;  // what was wrong when !ok or leak (a leaked id, a mismatched content...)
  std::chrono::milliseconds latency() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(end - start);
  }
};

struct LoadOptions {
  std::string code = "USA";                  // instance whose api/kas are driven
  int workers = 3;                           // threads, each cycling through users and ops
  std::chrono::milliseconds deadline{6000};  // every answer must arrive within this
  std::chrono::milliseconds pace{25};        // pause between one worker's requests (bounds the load)
  bool uploads = true, keys = true, lists = true;
  // Test-only: the table says "deny" for testuser-c-3 (with OTP) on the CONFIDENTIAL document, which the
  // policy allows, so prepare() must report a disagreement and the load a leak. Proves the driver can fail.
  bool flip_expectation_for_test = false;
};

class LoadDriver {
 public:
  LoadDriver(const DiveCli& cli, LoadOptions o = {});
  // Shares `api`'s tokens (and its one-time-code logins); `api` must be for o.code and outlive the driver.
  LoadDriver(const DiveCli& cli, const ApiClient& api, LoadOptions o = {});
  ~LoadDriver();  // stop()
  LoadDriver(const LoadDriver&) = delete;
  LoadDriver& operator=(const LoadDriver&) = delete;

  // Logs the users in (ApiClient tokens), uploads the known corpus (its own documents, labelled so that the
  // answer for each (user, document) is stated in a table in the source, derived from the policy rules in
  // docs/POLICY.md — never learned from the system), then checks every table entry once with a real read and
  // key request (a refusal must also carry the table's reason). Fails the test (ADD_FAILURE, returns false)
  // if the system disagrees with the table; the driver is usable all the same.
  bool prepare();
  void start();         // background workers (after prepare())
  void stop();          // joins (idempotent)
  void fault_begins();  // time stamps of the fault window (several windows may follow one another)
  void fault_ends();    // = healed
  // Polls (bounded) until `n` consecutive requests (by start time) started after fault_ends() all succeeded
  // as the table says (reads 200/403 as expected, keys 200/403, lists 200, uploads 201, no leak) and, among
  // them, at least one of every kind the load makes (read and key, each allowed and refused; list; upload),
  // so that a path still broken (say allowed keys, behind an open kas breaker) is not missed; the run grows
  // past `n` until it holds them all. Returns the recovery time measured from fault_ends() to the first of
  // those requests, or nullopt when that is later than `bound`. A request still in flight counts in its
  // place, so the answer is final once returned. Without running workers the calling thread issues the
  // requests itself. No fault_ends() yet: measured from now.
  std::optional<std::chrono::milliseconds> wait_recovered(std::chrono::milliseconds bound, int n = 20);
  // After stop(): every upload that got 201 is still there (read 200 by its uploader, key content equals what
  // was uploaded). Returns the number checked; ADD_FAILURE for each lost one.
  int verify_acknowledged_writes();
  // After stop(): gtest failures for the whole run: no leak; every latency <= deadline (and no transport
  // error/timeout: a status 0 counts as a violation unless `allow_transport_errors`); every non-success is a
  // 503 with a non-empty reason (or, when allowed, a status 0) and overlaps [fault_begins, fault_ends +
  // grace] of some window (grace = the recovery bound the scenario states). Prints a one-line summary (counts
  // per op and status, max latency, errors in window). Returns true when clean.
  bool expect_clean(std::chrono::milliseconds grace, bool allow_transport_errors = false);
  std::vector<LoadSample> samples() const;  // copy, thread-safe
  size_t count() const;                     // samples so far
  size_t successes_since(std::chrono::steady_clock::time_point t) const;

  const LoadOptions& options() const { return opts_; }
  std::vector<std::string> corpus_ids() const;  // the documents prepare() stored (empty before)
  size_t acknowledged_writes() const;           // uploads that got 201 so far
  struct Acknowledged {
    std::string id, plaintext, user;
    bool otp = false;
  };
  std::vector<Acknowledged> acknowledged_uploads()
      const;  // those uploads (thread-safe): id, content, uploader

 private:
  // A user the driver acts as: a seeded user of the instance (data/seed.json test_users: the hub's COIs
  // from hub_script, a spoke's from spoke_script), logged in with or without the current one-time code. The
  // idp gives acr "1" / amr [pwd, otp] (AAL2) with a code, acr "0" / amr [pwd] (AAL1) without (docs/IDP.md).
  struct Principal {
    std::string user;
    bool otp;
    int level;  // 0 UNCLASSIFIED, 1 RESTRICTED, 2 CONFIDENTIAL, 3 SECRET, 4 TOP_SECRET
    std::vector<std::string> coi;
    bool uploader;
    std::string token;  // set by prepare()
  };
  struct Doc {  // a corpus document and its row of the table (load_driver.cpp)
    std::string name, id, plaintext, classification;
    std::vector<std::string> rel, coi;
    std::string op;
    std::string answers;  // one letter per principal
  };
  struct Written {
    std::string id, plaintext;
    size_t principal;
  };
  struct Reply {
    int status = 0;
    Json body;
    std::string text;  // raw body, or the transport error
  };

  Reply send(net::HttpsClient& http, const std::string& method, const std::string& path,
             const std::string& token, const Json& body = Json()) const;
  static std::string reason_of(const Reply& r);  // a non-2xx body's reason/message/error text
  net::ClientConfig client_config() const;
  bool store_corpus(net::HttpsClient& http);
  bool check_table(net::HttpsClient& http);
  void step(net::HttpsClient& http, uint64_t n);  // one request, recorded
  void init();
  void judge_list(size_t principal, const Reply& r, bool corpus_only, LoadSample& s) const;
  void run_worker();
  static unsigned kind_of(LoadOp op, bool expected_allow);  // one bit per (op, expected answer)
  bool recovered_locked(std::chrono::steady_clock::time_point since, int n,
                        std::chrono::steady_clock::time_point* first) const;

  const DiveCli& cli_;
  std::unique_ptr<ApiClient> own_api_;
  const ApiClient& api_;
  LoadOptions opts_;
  std::string api_url_, kas_url_, tag_;
  std::vector<Principal> principals_;
  std::vector<Doc> docs_;
  std::vector<std::pair<size_t, LoadOp>> schedule_;  // (principal, op), cycled through
  std::atomic<uint64_t> seq_{0}, uploads_{0};
  bool prepared_ = false;
  unsigned kinds_ = 0;  // every kind_of() the schedule makes

  mutable std::mutex mu_;            // guards everything below
  std::condition_variable changed_;  // a sample was recorded
  std::condition_variable stop_cv_;  // stop() was asked
  std::vector<LoadSample> samples_;
  std::vector<Written> written_;
  std::multiset<std::chrono::steady_clock::time_point> in_flight_;  // start times
  struct Window {
    std::chrono::steady_clock::time_point begin;
    std::optional<std::chrono::steady_clock::time_point> end;
  };
  std::vector<Window> windows_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace dive::testing
