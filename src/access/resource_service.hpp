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
// Fail closed everywhere: no decision (pdp down, nothing cached) is 503, never a document.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "access/authorizer.hpp"
#include "access/parsed_objects.hpp"
#include "identity/verified_token.hpp"
#include "net/https_client.hpp"
#include "resilience/circuit_breaker.hpp"
#include "ztdf/key_access.hpp"

namespace dive::store {
class PgPool;
}
namespace dive::documents {
struct StoredResource;
}

namespace dive::access {

// What the audit trail records of an operation (docs/AUDIT.md); the service adds who, from where and when.
// An empty outcome: derived from the status by the route (2xx allow, 403 deny, else failure, the message
// as the reason).
struct AuditNote {
  std::string outcome;         // audit::kAllow, kDeny, kSuccess or kFailure ("" derive)
  std::string reason;          // the policy's reason of a decision, or what failed
  std::string resource;        // when it is not the route's {id} (an upload's new id)
  std::string details = "{}";  // a small JSON object
};

struct ApiResult {
  ApiResult() = default;
  ApiResult(int s, Json b, std::string t = {}) : status(s), body(std::move(b)), text(std::move(t)) {}
  int status = 200;
  Json body;         // errors: {error, message[, reason, evaluation_details]} (the route adds requestId)
  std::string text;  // when set, the JSON body as text already (large bodies built without a DOM)
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
  store::PgPool& db;
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

class ResourceService {
 public:
  explicit ResourceService(ResourceServiceDeps deps);

  ApiResult list(const identity::VerifiedToken& t, const std::map<std::string, std::string>& query,
                 const std::string& request_id);
  ApiResult read(const identity::VerifiedToken& t, const std::string& id, const std::string& request_id);
  ApiResult ztdf(const identity::VerifiedToken& t, const std::string& id, const std::string& request_id);
  ApiResult upload(const identity::VerifiedToken& t, std::string_view body, const std::string& request_id);
  ApiResult key(const identity::VerifiedToken& t, const std::string& id, std::string_view body,
                const std::string& bearer_token, const std::string& request_id);

 private:
  struct Loaded;
  // The stored object and the read decision on it; status != 0 when answered already (404, 403, 503).
  // with_text: out.row.ztdf holds the stored text; otherwise it is fetched only when the object has not
  // been parsed yet (found by the row's ztdf_sha256).
  ApiResult authorize_read(const identity::VerifiedToken& t, const std::string& id, const std::string& rid,
                           Loaded& out, bool with_text = false);
  // The parsed objects of these rows (by their ztdf_sha256), fetching the texts of those not parsed yet
  // in one query; nullptr for a row whose text does not parse (or that is gone). Throws PgUnavailable.
  std::vector<std::shared_ptr<const ParsedObject>> parsed_objects(
      const std::vector<documents::StoredResource>& rows);

  ResourceServiceDeps d_;
  ParsedObjects parsed_;
  std::mutex kas_key_mu_;
  std::string kas_kid_;
  std::string kas_public_pem_;
};

}  // namespace dive::access
