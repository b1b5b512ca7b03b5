#pragma once
// The api's document routes as logic (the service folder only maps HTTP to these):
//   list   GET  /api/resources            SQL pre-filter, then one PDP batch per page: the list shows only
//                                         what a read would allow (the same complete input as a read)
//   read   GET  /api/resources/{id}       label, marking, ZTDF metadata (wrapped keys, no payload), decision
//   ztdf   GET  /api/resources/{id}/ztdf  the whole object, authorized like a read
//   upload POST /api/resources            PDP with operation "upload", then encrypted to the KAS key (and
//                                         to the KASes of the partners in kasInstances: multi-KAS)
//   key    POST /api/resources/{id}/key   PEP read decision, then the KAS on the caller's behalf (the
//                                         caller's token forwarded): decrypted content, or the key
//                                         rewrapped to clientPublicKey; when this KAS does not answer, the
//                                         partner KASes the object is also wrapped for, in order
// Fail closed everywhere: no decision (pdp down, nothing cached) is an unavailable outcome, never a document.
// Outcomes, not HTTP (access/outcome.hpp): src/services/api/resource_routes.cpp maps them to statuses.
// Shared between worker threads: every member may be called from any thread (the parsed-object cache is
// thread-safe, the rest is read-only after construction).
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/authorizer.hpp"
#include "access/outcome.hpp"
#include "access/parsed_objects.hpp"
#include "identity/verified_token.hpp"
#include "net/https_client.hpp"
#include "resilience/circuit_breaker.hpp"
#include "ztdf/key_access.hpp"

namespace dive::documents {
class ResourceStore;
struct StoredResource;
struct ListFilter;
}  // namespace dive::documents

namespace dive::access {

struct InputContext;

// What the audit trail records of an operation (docs/AUDIT.md); the service adds who, from where and when.
// What is left empty the route derives from the outcome: ok is allow, denied or integrity deny, anything
// else failure; the reason is a denial's decision reason, else the outcome's message.
struct AuditNote {
  std::string outcome;         // audit::kAllow, kDeny, kSuccess or kFailure ("" derive)
  std::string reason;          // the policy's reason of a decision, or what failed
  std::string resource;        // when it is not the route's {id} (an upload's new id)
  std::string details = "{}";  // a small JSON object
};

// A document operation's result: its outcome, the answer when it is ok, and what the audit records.
// A failure converts from its outcome (`return Outcome::not_found(...)`).
struct Result {
  Result() = default;
  Result(Outcome o) : outcome(std::move(o)) {}  // NOLINT(google-explicit-constructor)
  static Result json(Json data, AuditNote audit) {
    Result r;
    r.data = std::move(data);
    r.audit = std::move(audit);
    return r;
  }
  static Result json_text(std::string text, AuditNote audit) {
    Result r;
    r.text = std::move(text);
    r.audit = std::move(audit);
    return r;
  }

  Outcome outcome;
  Json data;         // ok: the answer
  std::string text;  // ok: the answer as JSON text already (large bodies built without a DOM); wins over data
  AuditNote audit;
};

// The KAS registry of the federation (the trust bundle's members), as the document routes need it:
// a partner's KAS key for wrapping, and which partner a key-access object's KAS URL belongs to. Empty
// functions: no federation (one KAS).
struct KasRegistry {
  // The KAS of member `code` (url, kid, public key), or nullopt when it is not a member with a KAS key.
  std::function<std::optional<ztdf::KasPublicKey>(const std::string& code)> kas_of;
  // True when `url` is the KAS of a member of the federation (a key-access object it may be asked for).
  std::function<bool(const std::string& url)> is_member_kas;
};

struct ResourceServiceDeps {
  documents::ResourceStore& store;
  Authorizer& authorizer;
  net::HttpTransport& http;
  resilience::CircuitBreaker& kas_breaker;
  std::string kas_url;  // this instance's kas
  std::string tenant;   // this instance's code
  Millis kas_timeout{5000};
  KasRegistry kas_registry = {};
  // This instance's kas at the addresses it had before (a restore onto another host, docs/BACKUP.md): key
  // access objects naming one of them are this kas's own, asked at kas_url.
  std::vector<std::string> former_kas_urls = {};
};

// Thread-safe: one service serves every request thread; its only state of its own is the parsed-object
// cache, which locks itself (the dependencies are thread-safe).
class ResourceService {
 public:
  explicit ResourceService(ResourceServiceDeps deps);

  // ok: the page's text {"count","nextCursor","resources"}; invalid input for a bad limit, cursor or
  // classification filter; unavailable (database, pdp).
  Result list(const identity::VerifiedToken& t, const std::map<std::string, std::string>& query,
              const std::string& request_id);
  // ok: the summary, kaoCount, decision and ZTDF metadata as text; not found, denied, integrity (the stored
  // object does not parse), unavailable (database, pdp).
  Result read(const identity::VerifiedToken& t, const std::string& id, const std::string& request_id);
  // ok: the stored object's text as it is; the failures of read.
  Result ztdf(const identity::VerifiedToken& t, const std::string& id, const std::string& request_id);
  // ok (a new document; the route answers 201): {resourceId, displayMarking, classification, decision};
  // invalid input, denied, unavailable (pdp, database, kas without a key yet, or a commit in doubt).
  Result upload(const identity::VerifiedToken& t, std::string_view body, const std::string& request_id);
  // ok: {resourceId, kid, obligations, content + contentType | wrappedKey + wrappingAlgorithm}; the
  // failures of read, invalid input (body), refused by the KAS (denied, unauthenticated), integrity (the
  // released key does not decrypt), unavailable (kas).
  Result key(const identity::VerifiedToken& t, const std::string& id, std::string_view body,
             const std::string& bearer_token, const std::string& request_id);

 private:
  struct Loaded;
  // The stored object and the read decision on it: ok to go on, else the outcome to answer (not found,
  // integrity, denied, unavailable). with_text: out.row.ztdf holds the stored text; otherwise it is
  // fetched only when the object has not been parsed yet (found by the row's ztdf_sha256).
  Outcome authorize_read(const identity::VerifiedToken& t, const std::string& id, const std::string& rid,
                         Loaded& out, bool with_text = false);
  // The parsed objects of these rows (by their ztdf_sha256), fetching the texts of those not parsed yet
  // in one query; nullptr for a row whose text does not parse (or that is gone). Throws
  // documents::StoreUnavailable.
  std::vector<std::shared_ptr<const ParsedObject>> parsed_objects(
      const std::vector<documents::StoredResource>& rows);

  struct ListPage;
  // One round of a list: the next candidates after f.before_seq, decided in one PDP batch; the allowed ones
  // appended to `page` until `limit`. Ok with `done` set when the page is full or the candidates ran out;
  // else the outcome to answer (database or pdp unavailable).
  Outcome list_round(const identity::VerifiedToken& t, const DecisionKey::Builder& key,
                     const InputContext& ctx, documents::ListFilter& f, int limit, ListPage& page,
                     bool& done);

  ResourceServiceDeps d_;
  ParsedObjects parsed_;
};

}  // namespace dive::access
