#include "access/parsed_objects.hpp"

#include "common/encoding.hpp"
#include "common/mutex.hpp"
#include "ztdf/pdp_input.hpp"
#include "ztdf/serialize.hpp"
#include "ztdf/validate.hpp"

namespace dive::access {

std::shared_ptr<const ParsedObject> ParsedObjects::get(std::string_view text) {
  std::string key = sha256_hex(text);
  {
    MutexLock lock(mu_);
    if (auto it = map_.find(key); it != map_.end()) return it->second;
  }
  auto p = std::make_shared<ParsedObject>();
  p->object = ztdf::parse_object(text);
  p->resource = ztdf::resource_attributes(p->object, ztdf::validate_structure(p->object));
  p->resource_text = p->resource.dump();
  Json meta = ztdf::to_json(p->object);
  meta["payload"].erase("ciphertext");  // metadata only: the content comes through the KAS
  p->metadata_text = meta.dump();
  MutexLock lock(mu_);
  if (map_.size() >= capacity_) map_.clear();  // simple bound; a miss costs one parse
  map_.emplace(std::move(key), p);
  return p;
}

std::shared_ptr<const ParsedObject> ParsedObjects::find(const std::string& sha256_hex) const {
  MutexLock lock(mu_);
  auto it = map_.find(sha256_hex);
  return it == map_.end() ? nullptr : it->second;
}

size_t ParsedObjects::size() const {
  MutexLock lock(mu_);
  return map_.size();
}

}  // namespace dive::access
