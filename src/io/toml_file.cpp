#include "io/toml_file.hpp"

#include "io/files.hpp"

#include <string_view>

namespace mnsim::io {

Table load_toml_file(const std::string& path, const schema::Key& root, const std::string& what,
                     const std::vector<Override>& overrides) {
  return parse_scenario_text(read_text_file(path, kMaxScenarioBytes, what), path, root,
                             what == "a TOML scenario file" ? std::string() : what, overrides);
}

InputKind detect_input_kind(const std::string& path) {
  // Unreadable files get the message of a scenario, the default kind.
  const std::string text = read_text_file(path, kMaxScenarioBytes, "a TOML scenario file");
  // The first distinctive table decides; a dose-response file's [grid] wins over the scar
  // tables it shares with planner files, wherever it stands.
  bool plan = false, in_table = false;
  constexpr auto npos = std::string_view::npos;
  // A calibration file's [calibration] wins over the [[parameters]] it shares with sensitivity
  // files, wherever it stands.
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::size_t b = at;
    while (b < end && (text[b] == ' ' || text[b] == '\t')) ++b;
    if (std::string_view(text.data() + b, end - b).rfind("[calibration]", 0) == 0) {
      return InputKind::Calibration;
    }
    at = end + 1;
  }
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::size_t b = at;
    while (b < end && (text[b] == ' ' || text[b] == '\t')) ++b;
    const std::string_view line(text.data() + b, end - b);
    auto opens = [&](std::string_view header) { return line.rfind(header, 0) == 0; };
    if (opens("[grid]")) return InputKind::DoseResponse;
    // A sensitivity file's tables win over the patient and scar tables it shares with planner
    // files, wherever they stand.
    if (opens("[sensitivity]") || opens("[[parameters]]")) return InputKind::Sensitivity;
    if (opens("[[axis]]")) return InputKind::Sweep;
    // A sweep file's base scenario, a top-level key no other kind of file has.
    if (!in_table && opens("scenario") && line.substr(8).find_first_not_of(" \t") != npos &&
        line[line.find_first_not_of(" \t", 8)] == '=') {
      return InputKind::Sweep;
    }
    if (opens("[")) in_table = true;
    if (!plan && opens("[population]")) return InputKind::Cohort;
    if (!plan && opens("[[case]]")) return InputKind::Validation;
    if (opens("[constraints]") || opens("[search]") || opens("[inventory]") || opens("[[scars]]")) {
      plan = true;
    }
    at = end + 1;
  }
  if (plan) return InputKind::Plan;
  return InputKind::Scenario;
}

}  // namespace mnsim::io
