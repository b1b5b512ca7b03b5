#include "ztdf/marking.hpp"

namespace dive::ztdf {

namespace {

void append_list(std::string& out, const std::vector<std::string>& items, std::string_view sep) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
}

}  // namespace

std::string_view marking_name(Classification c, MarkingStyle style) noexcept {
  const bool nato = style == MarkingStyle::kNato;
  switch (c) {
    case Classification::kUnclassified:
      return nato ? "NATO UNCLASSIFIED" : "UNCLASSIFIED";
    case Classification::kRestricted:
      return nato ? "NATO RESTRICTED" : "RESTRICTED";
    case Classification::kConfidential:
      return nato ? "NATO CONFIDENTIAL" : "CONFIDENTIAL";
    case Classification::kSecret:
      return nato ? "NATO SECRET" : "SECRET";
    case Classification::kTopSecret:
      return nato ? "COSMIC TOP SECRET" : "TOP SECRET";
  }
  return "UNCLASSIFIED";
}

std::string display_marking(const SecurityLabel& label, MarkingStyle style) {
  std::string out(marking_name(label.classification, style));
  if (!label.caveats.empty()) {
    out += "//";
    append_list(out, label.caveats, "/");
  }
  if (!label.coi.empty()) {
    out += "//";
    append_list(out, label.coi, "/");
  }
  if (!label.releasability_to.empty()) {
    out += "//REL ";
    append_list(out, label.releasability_to, ", ");
  }
  return out;
}

bool marking_matches(const SecurityLabel& label) {
  return label.display_marking == display_marking(label, MarkingStyle::kNational) ||
         label.display_marking == display_marking(label, MarkingStyle::kNato);
}

}  // namespace dive::ztdf
