#pragma once
// One full resynchronisation of a mirror from the shared blacklist (run periodically and after every
// resubscription): what this instance has not pushed yet is merged in, so a resync never forgets a
// revocation made during an outage; expired entries are pruned. Throws when the blacklist cannot be read
// (the mirror then ages, and goes stale after max_staleness).
#include "common/clock.hpp"

namespace dive::identity {

class BlacklistBackend;
class RevocationMirror;
class RevocationStore;

void resync_mirror(RevocationMirror& mirror, BlacklistBackend& shared, const RevocationStore* store,
                   Clock& clock = Clock::system());

}  // namespace dive::identity
