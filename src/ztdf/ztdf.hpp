#pragma once
// The whole public API of dive_ztdf (docs/ZTDF.md). Include the single headers where only a part is needed.
#include "ztdf/binding.hpp"         // canonical policy, policy hash, policy binding, root signature
#include "ztdf/canonical_json.hpp"  // RFC 8785 canonical JSON
#include "ztdf/encrypt.hpp"         // encrypt, decrypt, add_key_access
#include "ztdf/error.hpp"           // exceptions
#include "ztdf/key_access.hpp"      // wrap, unwrap, open_key_access (KAS), rewrap (clientPublicKey)
#include "ztdf/keys.hpp"            // DataKey, PublicKey, PrivateKey
#include "ztdf/label.hpp"           // SecurityLabel, Classification
#include "ztdf/marking.hpp"         // STANAG 4774 display marking
#include "ztdf/object.hpp"          // the object model
#include "ztdf/pdp_input.hpp"       // resource attributes for the PDP input
#include "ztdf/serialize.hpp"       // JSON in and out
#include "ztdf/validate.hpp"        // tamper detection
