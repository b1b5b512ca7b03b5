#pragma once
// The active data bundle of a running pdp, replaced atomically: readers take a shared_ptr snapshot
// per request (lock-free for them), a reload swaps in a fully parsed bundle or leaves the old one.
// Thread-safe without a lock: the one member is a std::atomic<std::shared_ptr>, the bundles are immutable.
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "policy/bundle.hpp"

namespace dive::policy {

class BundleHolder {
 public:
  BundleHolder() = default;
  explicit BundleHolder(std::shared_ptr<const Bundle> initial) : current_(std::move(initial)) {}
  BundleHolder(const BundleHolder&) = delete;
  BundleHolder& operator=(const BundleHolder&) = delete;

  // The active bundle, or nullptr before the first successful load.
  std::shared_ptr<const Bundle> current() const { return current_.load(std::memory_order_acquire); }
  // Revision of the active bundle ("" when none).
  std::string revision() const;

  // Installs `next`; false (nothing changes) when it is null.
  bool replace(std::shared_ptr<const Bundle> next);
  // Parses and installs a bundle document. On any error returns false, keeps the active bundle and,
  // when `error` is given, stores the reason there.
  bool replace(const Json& doc, std::string* error = nullptr);
  bool replace_text(std::string_view text, std::string* error = nullptr);
  bool load_file(const std::filesystem::path& path, std::string* error = nullptr);

 private:
  std::atomic<std::shared_ptr<const Bundle>> current_;
};

}  // namespace dive::policy
