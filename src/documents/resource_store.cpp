#include "documents/resource_store.hpp"

#include <pqxx/pqxx>

#include "ztdf/serialize.hpp"

namespace dive::documents {

namespace {

Json to_array(const std::vector<std::string>& v) {
  return Json(v);
}

std::vector<std::string> from_pg_array(const pqxx::field& f) {
  std::vector<std::string> out;
  auto parser = f.as_array();
  for (auto [kind, value] = parser.get_next(); kind != pqxx::array_parser::juncture::done;
       std::tie(kind, value) = parser.get_next())
    if (kind == pqxx::array_parser::juncture::string_value) out.push_back(value);
  return out;
}

constexpr const char* kColumns =
    "seq, resource_id, title, classification, releasability_to, coi, coi_operator, caveats, "
    "releasable_to_industry, originating_country, display_marking, owner, source, COALESCE(seed_batch, ''), "
    "kas_kid, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), ztdf_sha256";

StoredResource from_row(const pqxx::row& r, bool with_ztdf) {
  StoredResource s;
  s.seq = r[0].as<int64_t>();
  s.resource_id = r[1].as<std::string>();
  s.title = r[2].as<std::string>();
  s.label.classification =
      ztdf::parse_classification(r[3].as<std::string>()).value_or(ztdf::Classification::kTopSecret);
  s.label.releasability_to = from_pg_array(r[4]);
  s.label.coi = from_pg_array(r[5]);
  s.label.coi_operator = r[6].as<std::string>() == "ANY" ? ztdf::CoiOperator::kAny : ztdf::CoiOperator::kAll;
  s.label.caveats = from_pg_array(r[7]);
  s.label.releasable_to_industry = r[8].as<bool>();
  s.label.originating_country = r[9].as<std::string>();
  s.label.display_marking = r[10].as<std::string>();
  s.owner = r[11].as<std::string>();
  s.source = r[12].as<std::string>();
  s.seed_batch = r[13].as<std::string>();
  s.kas_kid = r[14].as<std::string>();
  s.created_at = r[15].as<std::string>();
  s.ztdf_sha256 = r[16].as<std::string>();
  if (with_ztdf) s.ztdf = r[17].as<std::string>();
  return s;
}

// The hot statements are prepared: PostgreSQL parses and plans them once per connection instead of on
// every read. libpqxx registers the definition here (a map lookup once known) and sends the PREPARE on
// the connection's first use; a new connection (after a reconnect) prepares anew.
const char* prepared(pqxx::connection& conn, const char* name, const std::string& sql) {
  conn.prepare(name, sql);
  return name;
}

}  // namespace

StoredResource stored_from_ztdf(std::string ztdf_text, std::string title, std::string owner,
                                std::string source, std::string seed_batch) {
  ztdf::Object o = ztdf::parse_object(ztdf_text);
  StoredResource s;
  s.resource_id = o.manifest.object_id;
  s.title = std::move(title);
  s.label = o.policy.label;
  s.owner = std::move(owner);
  s.source = std::move(source);
  s.seed_batch = std::move(seed_batch);
  s.kas_kid = o.key_access.empty() ? "" : o.key_access.front().kid;
  s.created_at = o.manifest.created_at;
  s.ztdf = std::move(ztdf_text);
  return s;
}

size_t insert_resources(pqxx::connection& conn, const std::vector<StoredResource>& rows) {
  if (rows.empty()) return 0;
  Json batch = Json::array();
  for (const auto& r : rows) {
    batch.push_back(Json{{"id", r.resource_id},
                         {"title", r.title},
                         {"cls", ztdf::to_string(r.label.classification)},
                         {"lvl", static_cast<int>(r.label.classification)},
                         {"rel", to_array(r.label.releasability_to)},
                         {"coi", to_array(r.label.coi)},
                         {"op", ztdf::to_string(r.label.coi_operator)},
                         {"cav", to_array(r.label.caveats)},
                         {"ind", r.label.releasable_to_industry},
                         {"orig", r.label.originating_country},
                         {"mark", r.label.display_marking},
                         {"owner", r.owner},
                         {"src", r.source},
                         {"batch", r.seed_batch.empty() ? Json(nullptr) : Json(r.seed_batch)},
                         {"kid", r.kas_kid},
                         {"ztdf", r.ztdf}});
  }
  pqxx::work tx(conn);
  auto res = tx.exec_params(
      "INSERT INTO resources (resource_id, title, classification, classification_level, releasability_to, "
      "coi, coi_operator, caveats, releasable_to_industry, originating_country, display_marking, owner, "
      "source, seed_batch, kas_kid, ztdf) "
      "SELECT x->>'id', x->>'title', x->>'cls', (x->>'lvl')::smallint, "
      "ARRAY(SELECT jsonb_array_elements_text(x->'rel')), ARRAY(SELECT jsonb_array_elements_text(x->'coi')), "
      "x->>'op', ARRAY(SELECT jsonb_array_elements_text(x->'cav')), (x->>'ind')::boolean, x->>'orig', "
      "x->>'mark', x->>'owner', x->>'src', x->>'batch', x->>'kid', x->>'ztdf' "
      "FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(x, n) ORDER BY n "
      "ON CONFLICT (resource_id) DO NOTHING",
      batch.dump());
  tx.commit();
  return static_cast<size_t>(res.affected_rows());
}

std::optional<StoredResource> find_resource(pqxx::connection& conn, const std::string& resource_id,
                                            bool with_ztdf) {
  static const std::string with =
      std::string("SELECT ") + kColumns + ", ztdf FROM resources WHERE resource_id = $1";
  static const std::string without =
      std::string("SELECT ") + kColumns + " FROM resources WHERE resource_id = $1";
  const char* name = prepared(conn, with_ztdf ? "dive_find_resource_ztdf" : "dive_find_resource",
                              with_ztdf ? with : without);
  pqxx::nontransaction tx(conn);  // one statement: no BEGIN/COMMIT round trips
  auto rows = tx.exec_prepared(name, resource_id);
  if (rows.empty()) return std::nullopt;
  return from_row(rows[0], with_ztdf);
}

std::map<std::string, std::string> find_ztdf_texts(pqxx::connection& conn,
                                                   const std::vector<std::string>& ids) {
  std::map<std::string, std::string> out;
  if (ids.empty()) return out;
  // The ids as one text[] parameter (a JSON array unpacked by the database: no quoting of our own).
  const char* name = prepared(conn, "dive_find_ztdf_texts",
                              "SELECT resource_id, ztdf FROM resources WHERE resource_id = ANY("
                              "ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))");
  pqxx::nontransaction tx(conn);
  for (const auto& r : tx.exec_prepared(name, Json(ids).dump()))
    out.emplace(r[0].as<std::string>(), r[1].as<std::string>());
  return out;
}

std::vector<StoredResource> list_resources(pqxx::connection& conn, const ListFilter& f) {
  // Optional filters are NULL parameters (a null const char*), so the statement text never varies.
  auto text = [](const std::string& v) -> const char* { return v.empty() ? nullptr : v.c_str(); };
  std::string max_level = f.max_level ? std::to_string(*f.max_level) : "";
  std::string cls = f.classification ? std::to_string(*f.classification) : "";
  std::string before = f.before_seq ? std::to_string(*f.before_seq) : "";
  static constexpr const char* kWhere =
      " FROM resources WHERE releasability_to @> ARRAY[$1::text]"
      " AND ($2::int IS NULL OR classification_level <= $2::int)"
      " AND ($3::text IS NULL OR strpos(lower(title), lower($3::text)) > 0)"
      " AND ($4::int IS NULL OR classification_level = $4::int)"
      " AND ($5::text IS NULL OR coi @> ARRAY[$5::text])"
      " AND ($6::text IS NULL OR releasability_to @> ARRAY[$6::text])"
      " AND ($7::bigint IS NULL OR seq < $7::bigint)"
      " ORDER BY seq DESC LIMIT $8";
  static const std::string with = std::string("SELECT ") + kColumns + ", ztdf" + kWhere;
  static const std::string without = std::string("SELECT ") + kColumns + kWhere;
  const char* name = prepared(conn, f.with_ztdf ? "dive_list_resources_ztdf" : "dive_list_resources",
                              f.with_ztdf ? with : without);
  pqxx::nontransaction tx(conn);  // one statement: no BEGIN/COMMIT round trips
  auto rows = tx.exec_prepared(name, f.country, text(max_level), text(f.query), text(cls), text(f.coi),
                               text(f.releasable_to), text(before), f.limit);
  std::vector<StoredResource> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(from_row(r, f.with_ztdf));
  return out;
}

int64_t count_resources(pqxx::connection& conn, const std::string& source) {
  pqxx::nontransaction tx(conn);  // one statement: no BEGIN/COMMIT round trips
  if (source.empty()) return tx.exec("SELECT count(*) FROM resources")[0][0].as<int64_t>();
  return tx.exec_params("SELECT count(*) FROM resources WHERE source = $1", source)[0][0].as<int64_t>();
}

void append_resource_summary(std::string& out, const StoredResource& r) {
  // Keys in the order nlohmann's (sorted) objects dump them.
  auto array = [&out](const std::vector<std::string>& v) {
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out += ',';
      append_json_string(out, v[i]);
    }
    out += ']';
  };
  auto member = [&out](const char* key, std::string_view value) {
    out += key;
    append_json_string(out, value);
  };
  out += "{\"COI\":";
  array(r.label.coi);
  out += ",\"caveats\":";
  array(r.label.caveats);
  member(",\"classification\":", ztdf::to_string(r.label.classification));
  member(",\"coiOperator\":", ztdf::to_string(r.label.coi_operator));
  member(",\"createdAt\":", r.created_at);
  member(",\"displayMarking\":", r.label.display_marking);
  out += ",\"encrypted\":true";
  member(",\"originatingCountry\":", r.label.originating_country);
  out += ",\"releasabilityTo\":";
  array(r.label.releasability_to);
  out += ",\"releasableToIndustry\":";
  out += r.label.releasable_to_industry ? "true" : "false";
  member(",\"resourceId\":", r.resource_id);
  member(",\"title\":", r.title);
  out += '}';
}

}  // namespace dive::documents
