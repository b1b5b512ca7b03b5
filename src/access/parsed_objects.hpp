#pragma once
// Stored ZTDF objects parsed once: a bounded map from the SHA-256 of an object's exact text to what the
// api needs of it (the object, the resource attributes of its PDP input, its metadata JSON without the
// payload). Keyed by the text itself, so an object changed in the database is parsed (and validated)
// anew: the cache can never make a read or the list see anything but the stored bytes. The database
// keeps the same hash of each row's text (resources.ztdf_sha256, maintained by a trigger), so a caller can
// look an object up by that hash and fetch the text only on a miss. Thread-safe: one map under one mutex
// for every request thread (the parsed objects are shared immutable).
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/json.hpp"
#include "common/mutex.hpp"
#include "ztdf/object.hpp"

namespace dive::access {

struct ParsedObject {
  ztdf::Object object;
  Json resource;              // ztdf::resource_attributes(object, validate_structure(object))
  std::string resource_text;  // resource.dump(): its part of a decision-cache key (DecisionKey::Builder)
  std::string metadata_text;  // to_json(object) without payload.ciphertext, dumped
};

class ParsedObjects {
 public:
  explicit ParsedObjects(size_t capacity = 20000) : capacity_(capacity) {}
  // Throws ztdf::Error when the text is not a valid ZTDF object.
  std::shared_ptr<const ParsedObject> get(std::string_view ztdf_text);
  // The object whose text has this SHA-256 (lower-case hex), if it has been parsed; nullptr otherwise.
  std::shared_ptr<const ParsedObject> find(const std::string& sha256_hex) const;
  size_t size() const;

 private:
  size_t capacity_;
  mutable Mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const ParsedObject>> map_ GUARDED_BY(mu_);
};

}  // namespace dive::access
