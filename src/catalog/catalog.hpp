// `mnsim catalog`: what the scenario language can name (keys, units, and - as modules add
// them - sites, lesion kinds, devices).
#pragma once

#include <string>

namespace mnsim {

/// "keys, units, ..." for the CLI help.
std::string catalog_topics_text();
/// The text for one topic, or an overview for an empty topic. Unknown topic: InputError.
std::string catalog_text(const std::string& topic);

}  // namespace mnsim
