#include "core/scenario_schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "core/error.hpp"

#include "devices/schema.hpp"
#include "healing/options.hpp"
#include "lesions/factory.hpp"
#include "protocol/course.hpp"
#include "run/output.hpp"
#include "skin/tissue.hpp"

namespace mnsim {

namespace {
schema::Key build() {
  using namespace schema;
  Key root = table("", "a scenario", {}, true);
  root.children = {
      string("title", "", "Title shown in reports and summaries."),
      string("notes", "", "Free text kept with the results."),
      integer("seed", "1", "Seed of every random draw (lesions, hand jitter, variability).", 0,
              static_cast<double>(kMaxSeed)),
      skin::patient_schema(),
      skin::tissue_schema(),
      lesions::surface_schema(),
      lesions::lesions_schema(),
      lesions::inventory_schema(),
      devices::device_schema(),
      devices::technique_schema(),
      protocol::course_schema(),
      output_schema(),
      healing::numerics_schema(),
  };
  return root;
}
}  // namespace

const schema::Key& scenario_schema() {
  static const schema::Key root = build();
  return root;
}

const schema::Key& scenario_key(const std::string& path) {
  const auto plain = [](std::string p) {  // "lesions[].kind" -> "lesions.kind"
    for (auto at = p.find("[]"); at != std::string::npos; at = p.find("[]")) p.erase(at, 2);
    return p;
  };
  const auto at = path.find('@');
  const std::string want = plain(path.substr(0, at));
  const std::string variant =
      at == std::string::npos ? std::string() : fmt::format("= \"{}\"", path.substr(at + 1));
  for (const auto& fk : schema::flatten(scenario_schema())) {
    if (plain(fk.path) != want) continue;
    const bool same_variant = variant.empty()
                                  ? fk.variant.empty()
                                  : fk.variant.size() >= variant.size() &&
                                        fk.variant.compare(fk.variant.size() - variant.size(),
                                                           variant.size(), variant) == 0;
    if (same_variant) return *fk.key;
  }
  throw std::logic_error("internal: no scenario key '" + path + "'");
}

schema::Key mirror_key(const std::string& path, std::string name, const std::string& def,
                       std::string doc) {
  schema::Key k = scenario_key(path);
  k.name = std::move(name);
  k.doc = std::move(doc);
  k.required = false;
  const bool quoted = k.type == schema::Type::Quantity || k.type == schema::Type::String ||
                      k.type == schema::Type::Enum;
  k.def = def.empty() ? std::string() : quoted ? fmt::format("\"{}\"", def) : def;
  return k;
}

std::uint64_t parse_whole_option(std::string_view text, const std::string& flag, std::uint64_t lo,
                                 std::uint64_t hi, const std::string& what) {
  const SourceLoc cli{"command line", 0, 0};
  const std::string tail = what.empty() ? std::string() : ", " + what;
  const std::string range = fmt::format("expected {} to {}", lo, hi);
  if (text.empty()) {
    throw InputError(cli, flag, "empty value",
                     fmt::format("a whole number from {} to {}{}", lo, hi, tail));
  }
  const bool negative = text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  const bool all_digits = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
  if (!all_digits) {
    throw InputError(
        cli, flag, fmt::format("'{}' is not a decimal whole number", text),
        fmt::format("digits only, no sign, spaces or decimal point: {} to {}{}", lo, hi, tail));
  }
  if (negative) throw InputError(cli, flag, fmt::format("{} is out of range", text), range);
  // Compare as digit strings: no overflow and no wrap-around, whatever the length.
  std::string_view d = digits;
  while (d.size() > 1 && d.front() == '0') d.remove_prefix(1);
  const std::string max = std::to_string(hi);
  if (d.size() > max.size() || (d.size() == max.size() && d > max)) {
    throw InputError(cli, flag, fmt::format("{} is out of range", text), range);
  }
  std::uint64_t v = 0;
  for (const char c : d) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  if (v < lo) throw InputError(cli, flag, fmt::format("{} is out of range", text), range);
  return v;
}

std::uint64_t parse_seed_option(std::string_view text, const std::string& flag) {
  return parse_whole_option(text, flag, 0, kMaxSeed, "as the scenario's seed");
}

}  // namespace mnsim
