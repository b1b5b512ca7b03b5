#include "access/resource_service.hpp"

#include <algorithm>

#include "access/pdp_input.hpp"
#include "common/encoding.hpp"
#include "common/random.hpp"
#include "common/strings.hpp"
#include "documents/kas_keys.hpp"
#include "documents/resource_store.hpp"
#include "ztdf/encrypt.hpp"
#include "ztdf/error.hpp"
#include "ztdf/marking.hpp"
#include "ztdf/pdp_input.hpp"
#include "ztdf/serialize.hpp"
#include "ztdf/validate.hpp"

namespace dive::access {

namespace {

// The details of an authorized operation: the label's classification and whether the decision was cached.
std::string decision_details(const std::string& classification, bool cached) {
  std::string d = "{\"classification\":";
  append_json_string(d, classification);
  d += cached ? ",\"cached\":true}" : ",\"cached\":false}";
  return d;
}
Json decision_json(const Authorization& a) {
  return Json{{"allow", a.decision->allow},
              {"reason", a.decision->reason},
              {"obligations", a.decision->obligations},
              {"evaluation_details", a.decision->evaluation_details},
              {"cached", a.cached}};
}

// The read input of a stored object: the same for the list and for a read, so they can never disagree.
Json read_input(const identity::VerifiedToken& t, const ParsedObject& o, const InputContext& ctx) {
  return build_input(t, "read", o.resource, ctx);
}

constexpr int kMaxPage = 100;
constexpr int kDefaultPage = 25;

// The list's query (?limit, cursor, query, classification, coi, releasableTo) onto the filter and the page
// size: invalid input for a limit, cursor or classification that cannot be.
Outcome parse_list_query(const std::map<std::string, std::string>& q, documents::ListFilter& f, int& limit) {
  limit = kDefaultPage;
  if (auto it = q.find("limit"); it != q.end()) {
    auto v = parse_int(it->second);
    if (!v) return Outcome::invalid_input("limit must be a whole number");
    if (*v < 1 || *v > kMaxPage) return Outcome::invalid_input("limit must be between 1 and 100");
    limit = static_cast<int>(*v);
  }
  if (auto it = q.find("cursor"); it != q.end() && !it->second.empty()) {
    auto v = parse_int(it->second);
    if (!v || *v < 1)
      return Outcome::invalid_input("cursor must be a value of nextCursor from a previous page");
    f.before_seq = *v;
  }
  if (auto it = q.find("query"); it != q.end()) f.query = it->second.substr(0, 200);
  if (auto it = q.find("classification"); it != q.end() && !it->second.empty()) {
    int lvl = canonical_level(it->second);
    if (lvl < 0) return Outcome::invalid_input("unknown classification " + it->second.substr(0, 40));
    f.classification = lvl;
  }
  if (auto it = q.find("coi"); it != q.end()) f.coi = it->second.substr(0, 64);
  if (auto it = q.find("releasableTo"); it != q.end()) f.releasable_to = it->second.substr(0, 3);
  return {};
}

}  // namespace

struct ResourceService::Loaded {
  documents::StoredResource row;
  std::shared_ptr<const ParsedObject> parsed;
  Authorization authorization;
};

ResourceService::ResourceService(ResourceServiceDeps deps) : d_(std::move(deps)) {}

std::vector<std::shared_ptr<const ParsedObject>> ResourceService::parsed_objects(
    const std::vector<documents::StoredResource>& rows) {
  std::vector<std::shared_ptr<const ParsedObject>> out(rows.size());
  std::vector<std::string> missing;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].ztdf.empty()) continue;  // the text is here already
    out[i] = parsed_.find(rows[i].ztdf_sha256);
    if (!out[i]) missing.push_back(rows[i].resource_id);
  }
  std::map<std::string, std::string> texts;
  if (!missing.empty()) texts = d_.store.ztdf_texts(missing);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (out[i]) continue;
    const std::string* text = &rows[i].ztdf;
    if (text->empty()) {
      auto it = texts.find(rows[i].resource_id);
      // Deleted in between: left out. (Changed in between: the newer text is parsed, and decisions are
      // made on it, the authority; only the summary columns of this row may lag it by one statement.)
      if (it == texts.end()) continue;
      text = &it->second;
    }
    try {
      out[i] = parsed_.get(*text);
    } catch (const ztdf::Error&) {
      // left null: the caller refuses it (read) or leaves it out (list)
    }
  }
  return out;
}

Outcome ResourceService::authorize_read(const identity::VerifiedToken& t, const std::string& id,
                                        const std::string& rid, Loaded& out, bool with_text) {
  std::vector<documents::StoredResource> rows;
  try {
    auto row = d_.store.find(id, with_text);
    if (!row) return Outcome::not_found("no resource " + id);
    rows.push_back(std::move(*row));
    out.parsed = parsed_objects(rows).front();
  } catch (const documents::StoreUnavailable&) {
    return Outcome::unavailable(Dependency::kDatabase);
  }
  out.row = std::move(rows.front());
  // A stored object that does not parse is refused like a failed integrity check.
  if (!out.parsed) return Outcome::integrity("the stored object of " + id + " is not a valid ZTDF object");
  try {
    const InputContext ctx{d_.tenant, rid};
    const auto& parsed = *out.parsed;
    out.authorization =
        d_.authorizer.authorize(DecisionKey::Builder(t, "read", ctx).for_resource(parsed.resource_text),
                                std::string(ztdf::to_string(out.row.label.classification)),
                                [&] { return read_input(t, parsed, ctx); });
  } catch (const PdpUnavailable&) {
    return Outcome::unavailable(Dependency::kPdp);
  }
  if (!out.authorization.decision->allow) return Outcome::denied(*out.authorization.decision);
  return {};
}

// What a list request has gathered: the listed summaries (JSON text separated by ','), the decisions made
// (for the audit record), and the cursor of the next page (-1: none).
struct ResourceService::ListPage {
  std::string items;
  int count = 0;
  int examined = 0, refused = 0;
  int64_t next = -1;
};

namespace {

// {"count","nextCursor","resources"} as text (the order a Json object would dump).
std::string list_body(int count, int64_t next, const std::string& items) {
  std::string body = "{\"count\":" + std::to_string(count) + ",\"nextCursor\":";
  body += next >= 0 ? "\"" + std::to_string(next) + "\"" : std::string("null");
  body += ",\"resources\":[";
  body += items;
  body += "]}";
  return body;
}

// One record per page: how many were listed, how many candidates were decided and refused, the filter.
AuditNote list_audit(int returned, int examined, int refused, int limit, const documents::ListFilter& f) {
  Json filter = Json::object();
  if (!f.query.empty()) filter["query"] = f.query;
  if (f.classification) filter["classification"] = *f.classification;
  if (!f.coi.empty()) filter["coi"] = f.coi;
  if (!f.releasable_to.empty()) filter["releasableTo"] = f.releasable_to;
  return AuditNote{"allow", "", "",
                   Json{{"returned", returned},
                        {"examined", examined},
                        {"refused", refused},
                        {"limit", limit},
                        {"filter", filter}}
                       .dump(-1, ' ', false, Json::error_handler_t::replace)};
}

}  // namespace

Outcome ResourceService::list_round(const identity::VerifiedToken& t, const DecisionKey::Builder& key,
                                    const InputContext& ctx, documents::ListFilter& f, int limit,
                                    ListPage& page, bool& done) {
  f.limit = std::max(limit * 2, 20);
  std::vector<documents::StoredResource> rows;
  std::vector<std::shared_ptr<const ParsedObject>> parsed;
  try {
    rows = d_.store.list(f);
    parsed = parsed_objects(rows);
  } catch (const documents::StoreUnavailable&) {
    return Outcome::unavailable(Dependency::kDatabase);
  }
  std::vector<std::shared_ptr<const ParsedObject>> objects;
  std::vector<DecisionKey> keys;
  std::vector<std::string> classes;
  std::vector<size_t> idx;
  for (size_t i = 0; i < rows.size(); ++i) {
    // (an unreadable object is left out: a read would refuse it)
    if (!parsed[i]) continue;
    keys.push_back(key.for_resource(parsed[i]->resource_text));
    objects.push_back(std::move(parsed[i]));
    classes.emplace_back(ztdf::to_string(rows[i].label.classification));
    idx.push_back(i);
  }
  std::vector<Authorization> decisions;
  try {
    decisions = d_.authorizer.authorize_batch(keys, classes,
                                              [&](size_t j) { return read_input(t, *objects[j], ctx); });
  } catch (const PdpUnavailable&) {
    return Outcome::unavailable(Dependency::kPdp);
  }
  page.next = -1;
  size_t consumed = 0;
  for (size_t j = 0; j < decisions.size() && page.count < limit; ++j) {
    ++page.examined;
    if (decisions[j].decision->allow) {
      if (page.count++ > 0) page.items += ',';
      documents::append_resource_summary(page.items, rows[idx[j]]);
    } else {
      ++page.refused;
    }
    consumed = idx[j] + 1;
  }
  if (page.count == limit && consumed > 0) {
    // More may follow: the cursor is the last row looked at.
    if (consumed < rows.size() || static_cast<int>(rows.size()) == f.limit)
      page.next = rows[consumed - 1].seq;
    done = true;
  } else if (static_cast<int>(rows.size()) < f.limit) {
    done = true;  // the end
  } else {
    f.before_seq = rows.back().seq;
    page.next = rows.back().seq;  // out of rounds after this one: continue from here
  }
  return {};
}

Result ResourceService::list(const identity::VerifiedToken& t, const std::map<std::string, std::string>& q,
                             const std::string& rid) {
  documents::ListFilter f;
  f.country = t.claim_string("countryOfAffiliation");
  if (f.country.empty())
    return Result::json(Json{{"resources", Json::array()}, {"count", 0}, {"nextCursor", nullptr}}, {});
  if (int lvl = canonical_level(t.claim_string("clearance")); lvl >= 0) f.max_level = lvl;
  int limit = kDefaultPage;
  if (auto o = parse_list_query(q, f, limit); !o.ok()) return o;
  f.with_ztdf = false;  // texts are fetched only for objects not parsed yet (parsed_objects)

  // Rounds of candidates until `limit` allowed ones or the end; bounded work per request.
  const InputContext ctx{d_.tenant, rid};
  // A read's input, so the list never shows what a read would refuse.
  const DecisionKey::Builder key(t, "read", ctx);
  ListPage page;
  bool done = false;
  for (int round = 0; round < 5 && !done; ++round)
    if (auto o = list_round(t, key, ctx, f, limit, page, done); !o.ok()) return o;
  return Result::json_text(list_body(page.count, page.next, page.items),
                           list_audit(page.count, page.examined, page.refused, limit, f));
}

Result ResourceService::read(const identity::VerifiedToken& t, const std::string& id,
                             const std::string& rid) {
  Loaded l;
  if (auto o = authorize_read(t, id, rid, l); !o.ok()) return o;
  // The metadata was dumped once when the object was first parsed; it is spliced into the body as text.
  // Written as text: building and copying DOM trees per read showed as malloc churn under load.
  std::string body;
  body.reserve(1024 + l.parsed->metadata_text.size());
  documents::append_resource_summary(body, l.row);
  body.pop_back();  // '}'
  body += ",\"kaoCount\":" + std::to_string(l.parsed->object.key_access.size()) + ",\"decision\":";
  append_decision_json(body, *l.authorization.decision, l.authorization.cached);
  body += ",\"ztdf\":";
  body += l.parsed->metadata_text;
  body += '}';
  return Result::json_text(
      std::move(body), AuditNote{"allow", l.authorization.decision->reason, "",
                                 decision_details(std::string(ztdf::to_string(l.row.label.classification)),
                                                  l.authorization.cached)});
}

Result ResourceService::ztdf(const identity::VerifiedToken& t, const std::string& id,
                             const std::string& rid) {
  Loaded l;
  if (auto o = authorize_read(t, id, rid, l, true); !o.ok()) return o;
  return Result::json_text(std::move(l.row.ztdf),  // the stored text as it is
                           AuditNote{"allow", l.authorization.decision->reason, "",
                                     "{\"object\":\"ztdf\",\"classification\":\"" +
                                         std::string(ztdf::to_string(l.row.label.classification)) + "\"}"});
}

Result ResourceService::upload(const identity::VerifiedToken& t, std::string_view text,
                               const std::string& rid) {
  Json j;
  try {
    j = parse_json_limited(text, 16);
  } catch (const std::exception&) {
    return Outcome::invalid_input("the body must be JSON");
  }
  if (!j.is_object()) return Outcome::invalid_input("the body must be a JSON object");
  auto str = [&](const char* k) -> std::optional<std::string> {
    auto it = j.find(k);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto strs = [&](const char* k, std::vector<std::string>& out) -> bool {
    auto it = j.find(k);
    if (it == j.end()) return true;
    if (!it->is_array()) return false;
    for (const auto& v : *it) {
      if (!v.is_string()) return false;
      out.push_back(v.get<std::string>());
    }
    return true;
  };
  auto title = str("title");
  auto content = str("content");
  auto cls = str("classification");
  if (!title || title->empty() || title->size() > 512)
    return Outcome::invalid_input("title: a string of 1 to 512 characters is required");
  if (!content) return Outcome::invalid_input("content: base64 text is required");
  auto plain = base64_decode(*content);
  if (!plain) return Outcome::invalid_input("content: not valid base64");
  if (!cls || !ztdf::parse_classification(*cls)) return Outcome::invalid_input("classification: unknown");
  ztdf::SecurityLabel label;
  label.classification = *ztdf::parse_classification(*cls);
  if (!strs("releasabilityTo", label.releasability_to) || !strs("COI", label.coi) ||
      !strs("caveats", label.caveats))
    return Outcome::invalid_input("releasabilityTo, COI and caveats must be arrays of strings");
  if (auto op = str("coiOperator")) {
    if (*op != "ALL" && *op != "ANY") return Outcome::invalid_input("coiOperator: ALL or ANY");
    label.coi_operator = *op == "ANY" ? ztdf::CoiOperator::kAny : ztdf::CoiOperator::kAll;
  }
  if (auto it = j.find("releasableToIndustry"); it != j.end()) {
    if (!it->is_boolean()) return Outcome::invalid_input("releasableToIndustry must be a boolean");
    label.releasable_to_industry = it->get<bool>();
  }
  label.originating_country = t.claim_string("countryOfAffiliation");
  label.creation_date = ztdf::format_timestamp(std::chrono::system_clock::now());
  try {
    label.display_marking = ztdf::display_marking(label);
    ztdf::validate_label(label);
  } catch (const ztdf::FormatError& e) {
    return Outcome::invalid_input(e.what());
  }
  // Multi-KAS: the partners' KASes the data key is wrapped for too (from the federation's KAS registry).
  std::vector<std::string> kas_instances;
  if (!strs("kasInstances", kas_instances) || kas_instances.size() > ztdf::kMaxKeyAccessObjects - 1)
    return Outcome::invalid_input("kasInstances must be an array of at most 15 instance codes");
  std::vector<ztdf::KasPublicKey> partner_kas;
  for (const auto& code : kas_instances) {
    if (code == d_.tenant) continue;
    auto k = d_.kas_registry.kas_of ? d_.kas_registry.kas_of(code) : std::nullopt;
    if (!k)
      return Outcome::invalid_input("kasInstances: " + code.substr(0, 8) +
                                    " is not a member of the federation with a KAS key");
    if (std::none_of(partner_kas.begin(), partner_kas.end(), [&](const auto& p) { return p.url == k->url; }))
      partner_kas.push_back(std::move(*k));
  }
  std::string id = "doc-" + d_.tenant + "-" + secure_token(12);
  ztdf::Policy policy{id, label};
  Authorization a;
  try {
    a = d_.authorizer.authorize(
        build_input(t, "upload", ztdf::resource_attributes(policy), InputContext{d_.tenant, rid}), *cls);
  } catch (const PdpUnavailable&) {
    return Outcome::unavailable(Dependency::kPdp);
  }
  if (!a.decision->allow) {
    Result r = Outcome::denied(*a.decision);
    r.audit.resource = id;
    r.audit.details = decision_details(*cls, a.cached);
    return r;
  }
  try {
    // Wrapped to the kas's public key: the api never holds a private KAS key nor the key that protects them.
    auto kas = d_.store.active_kas_key();
    if (!kas)
      return Outcome::unavailable(
          Dependency::kKas,
          "the key access service (it has not created its key yet) is unavailable; no "
          "access can be decided now");
    std::vector<ztdf::KasPublicKey> kas_keys{documents::kas_public_key(*kas, d_.kas_url)};
    kas_keys.insert(kas_keys.end(), partner_kas.begin(), partner_kas.end());
    ztdf::ObjectInfo info;
    info.object_id = id;
    info.owner = t.claim_string("uniqueID");
    info.owner_organization = d_.tenant;
    if (auto ct = str("contentType")) info.content_type = *ct;
    ztdf::Object obj = ztdf::encrypt(*plain, label, kas_keys, info);
    auto row = documents::stored_from_ztdf(ztdf::serialize(obj), *title, info.owner, "upload", "");
    d_.store.insert({row});
    return Result::json(Json{{"resourceId", id},
                             {"displayMarking", obj.policy.label.display_marking},
                             {"classification", *cls},
                             {"decision", decision_json(a)}},
                        AuditNote{"allow", a.decision->reason, id,
                                  Json{{"classification", *cls},
                                       {"displayMarking", obj.policy.label.display_marking},
                                       {"bytes", plain->size()},
                                       {"kas", kas_keys.size()}}
                                      .dump(-1, ' ', false, Json::error_handler_t::replace)});
  } catch (const documents::StoreInDoubt&) {
    // The connection went during the commit: stored or not, nobody can tell now. Not acknowledged.
    return Outcome::unavailable(Dependency::kDatabase,
                                "the database did not confirm the upload; document " + id +
                                    " may or may not have been stored: look for it before uploading again");
  } catch (const documents::StoreUnavailable&) {
    return Outcome::unavailable(Dependency::kDatabase);
  } catch (const ztdf::FormatError& e) {
    return Outcome::invalid_input(e.what());
  }
}

Result ResourceService::key(const identity::VerifiedToken& t, const std::string& id, std::string_view text,
                            const std::string& bearer, const std::string& rid) {
  Json client_key;
  if (!text.empty()) {
    try {
      Json j = parse_json_limited(text, 16);
      if (!j.is_object()) return Outcome::invalid_input("the body must be a JSON object");
      if (j.contains("clientPublicKey")) client_key = j["clientPublicKey"];
    } catch (const std::exception&) {
      return Outcome::invalid_input("the body must be JSON");
    }
  }
  Loaded l;
  if (auto o = authorize_read(t, id, rid, l); !o.ok()) return o;
  const ztdf::Object& object = l.parsed->object;
  // The KASes to ask, in order: this instance's (through its breaker), then the federation's other KASes the
  // object is wrapped for (the KAS registry says which URLs are members'), each deciding by its own policy.
  auto own = [&](const std::string& url) {
    return url == d_.kas_url ||
           std::find(d_.former_kas_urls.begin(), d_.former_kas_urls.end(), url) != d_.former_kas_urls.end();
  };
  std::vector<const ztdf::KeyAccessObject*> kaos;
  for (const auto& k : object.key_access)
    if (own(k.url)) kaos.push_back(&k);
  for (const auto& k : object.key_access)
    if (!own(k.url) && d_.kas_registry.is_member_kas && d_.kas_registry.is_member_kas(k.url))
      kaos.push_back(&k);
  if (kaos.empty()) kaos.push_back(&object.key_access.front());

  net::ClientResponse resp;
  bool answered = false;
  for (const ztdf::KeyAccessObject* kao : kaos) {
    Json req_body{{"policy", ztdf::to_json(object.policy)}, {"kao", ztdf::to_json(*kao)}};
    if (!client_key.is_null()) req_body["clientPublicKey"] = client_key;
    auto call = [&] {
      net::ClientRequest req;
      req.method = "POST";
      req.url = (own(kao->url) ? d_.kas_url : kao->url) + "/request-key";
      req.headers.set("Authorization", "Bearer " + bearer);
      req.headers.set("Content-Type", "application/json");
      req.headers.set("X-Request-Id", rid);
      req.body = req_body.dump();
      req.timeout = d_.kas_timeout;
      auto r = d_.http.send(req);
      if (r.status >= 500) throw std::runtime_error("kas answered HTTP " + std::to_string(r.status));
      return r;
    };
    try {
      resp = own(kao->url) ? d_.kas_breaker.run(call) : call();
      answered = true;
      break;
    } catch (const std::exception&) {
      // this KAS is unavailable: the next one the object is wrapped for
    }
  }
  if (!answered) return Outcome::unavailable(Dependency::kKas);
  Json kas;
  try {
    kas = resp.json();
  } catch (const std::exception&) {
    return Outcome::unavailable(Dependency::kKas);
  }
  if (resp.status != 200) {
    auto member = [&](const char* k) { return kas.contains(k) ? std::optional<Json>(kas[k]) : std::nullopt; };
    Result r = Outcome::refused(resp.status == 401, kas.value("message", "key release refused by the KAS"),
                                member("reason"), member("evaluation_details"));
    r.audit.outcome = "deny";
    r.audit.reason = "refused by the KAS: " + (kas.contains("reason") && kas["reason"].is_string()
                                                   ? kas["reason"].get<std::string>()
                                                   : kas.value("message", std::string("no reason given")));
    return r;
  }
  Json out{{"resourceId", id},
           {"kid", kas.value("kid", "")},
           {"obligations", kas.value("obligations", Json::array())}};
  const AuditNote released{"allow", l.authorization.decision->reason, "",
                           Json{{"kid", kas.value("kid", "")},
                                {"rewrapped", kas.contains("wrappedKey")},
                                {"classification", std::string(ztdf::to_string(l.row.label.classification))}}
                               .dump(-1, ' ', false, Json::error_handler_t::replace)};
  if (kas.contains("wrappedKey")) {
    out["wrappedKey"] = kas["wrappedKey"];
    out["wrappingAlgorithm"] = kas.value("wrappingAlgorithm", "RSA-OAEP-256");
    return Result::json(std::move(out), released);
  }
  try {
    auto raw = base64_decode(kas.value("dataKey", ""));
    if (!raw) return Outcome::unavailable(Dependency::kKas);
    std::string plain = ztdf::decrypt(object, ztdf::DataKey::from_bytes(*raw));
    out["contentType"] = object.manifest.content_type;
    out["content"] = base64_encode(plain);
    return Result::json(std::move(out), released);
  } catch (const ztdf::Error&) {
    return Outcome::integrity("the document does not decrypt with the released key (integrity failure)");
  }
}

}  // namespace dive::access
