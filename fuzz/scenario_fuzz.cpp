// libFuzzer target: the scenario parser and validator. Any input must either parse or raise
// mnsim::InputError; anything else (crash, other exception, sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "core/scenario.hpp"
#include "run/scenario_schema.hpp"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const mnsim::Table t = mnsim::parse_scenario_text(text, "fuzz.toml", mnsim::scenario_schema());
    (void)t.to_toml();
    (void)t.to_json();
  } catch (const mnsim::InputError& e) {
    // Expected for malformed input: the message must be one line.
    if (std::string(e.what()).find('\n') != std::string::npos) __builtin_trap();
  }
  return 0;
}
