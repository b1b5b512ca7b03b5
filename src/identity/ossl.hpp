#pragma once
// Internal to dive_identity: the shared OpenSSL owners (common/ossl.hpp) plus what the JOSE code adds:
// the text of the thread's OpenSSL error queue and fixed-width big-endian numbers.
#include <string>
#include <string_view>

#include "common/ossl.hpp"

namespace dive::identity::ossl {

using namespace dive::ossl;

// The oldest error on the thread's OpenSSL queue as "what: reason", and clears the queue. Never
// includes key material (OpenSSL error strings name functions and reasons only).
std::string error(std::string_view what);
// Big-endian bytes of bn, left-padded with zeros to `width` bytes (0: minimal length).
std::string bn_bytes(const BIGNUM* bn, size_t width = 0);

}  // namespace dive::identity::ossl
