#pragma once
// STANAG 4774 display marking of a security label (grammar in docs/ZTDF.md):
//
//   marking  = class [ "//" caveat *( "/" caveat ) ] [ "//" coi *( "/" coi ) ] "//REL " cc *( ", " cc )
//
// caveats come before COIs, each list and the REL list in label order, e.g.
//   SECRET//FVEY//REL USA, GBR, CAN, AUS, NZL
//   TOP SECRET//NOFORN//US-ONLY//REL USA
//   NATO SECRET//NATO/QUAD//REL USA, GBR          (MarkingStyle::kNato)
//   UNCLASSIFIED//REL USA
#include <string>
#include <string_view>

#include "ztdf/label.hpp"

namespace dive::ztdf {

enum class MarkingStyle {
  kNational,  // UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET, TOP SECRET
  kNato,      // NATO UNCLASSIFIED, NATO RESTRICTED, NATO CONFIDENTIAL, NATO SECRET, COSMIC TOP SECRET
};

// The classification as it appears in a marking.
std::string_view marking_name(Classification c, MarkingStyle style = MarkingStyle::kNational) noexcept;

// The marking of the label's attributes (label.display_marking is ignored).
std::string display_marking(const SecurityLabel& label, MarkingStyle style = MarkingStyle::kNational);

// True when label.display_marking is the marking of its attributes in one of the two styles.
bool marking_matches(const SecurityLabel& label);

}  // namespace dive::ztdf
