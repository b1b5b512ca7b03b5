#pragma once
// One full resynchronisation of a mirror from the shared blacklist (run periodically and after every
// resubscription): expired entries are pruned, the snapshot plus what this instance has not pushed yet is
// merged in, and whatever unexpired revocation the mirror holds but the blacklist lacks (it lost its
// data) is pushed back. Throws when the blacklist cannot be read (the mirror then ages, and goes stale
// after max_staleness).
#include <cstddef>
#include <string>

#include "common/clock.hpp"

namespace dive::identity {

class BlacklistBackend;
class RevocationMirror;
class RevocationStore;

struct ResyncResult {
  size_t missing = 0;   // revocations the blacklist lacked
  size_t restored = 0;  // of those, pushed back
  std::string error;    // why pushing back stopped (empty when all were)
};

ResyncResult resync_mirror(RevocationMirror& mirror, BlacklistBackend& shared, const RevocationStore* store,
                           Clock& clock = Clock::system());

}  // namespace dive::identity
