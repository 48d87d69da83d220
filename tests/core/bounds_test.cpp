// Every documented bound of every numeric key, in the scenario and in the cohort, planner and
// validation files: the bound as docs/scenario.md prints it (schema::range_text) is accepted, in
// its own unit and converted to every other unit of its dimension ("100 um" and "0.1 mm"); a
// value just outside (1e-9 relative, or the next integer) is refused with "out of range" at the
// key. The files are built from the schema itself, so a new key is covered without editing this.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/command_line.hpp"
#include "core/scenario.hpp"
#include "protocol/cohort.hpp"
#include "protocol/mirror.hpp"
#include "protocol/plan.hpp"
#include "protocol/validate.hpp"
#include "run/scenario_schema.hpp"

namespace mnsim {
namespace {

using schema::Key;
using schema::Type;

/// A bound as documented: "100 um" -> number 100, unit "um"; "20" -> 20, "".
struct Bound {
  double number = 0;
  std::string unit;
};

Bound split_bound(const std::string& text) {
  Bound b;
  std::size_t used = 0;
  b.number = std::stod(text, &used);
  while (used < text.size() && text[used] == ' ') ++used;
  b.unit = text.substr(used);
  return b;
}

/// The documented lower and upper bound texts of a key ("100 um", "10 cm"); empty if open.
std::pair<std::string, std::string> bound_texts(const Key& k) {
  const std::string r = schema::range_text(k);
  if (r.empty()) return {};
  const auto to = r.find(" to ");
  if (to != std::string::npos) return {r.substr(0, to), r.substr(to + 4)};
  if (r.rfind(">= ", 0) == 0) return {r.substr(3), {}};
  if (r.rfind("<= ", 0) == 0) return {{}, r.substr(3)};
  ADD_FAILURE() << "unexpected range text '" << r << "' of " << k.name;
  return {};
}

std::string number_text(double v) {
  return fmt::format("{:.15g}", v);
}

/// A TOML value for a key that must be present alongside the key under test.
std::string filler(const Key& k) {
  switch (k.type) {
    case Type::Quantity: {
      if (!k.def.empty()) return k.def;
      const auto [lo, hi] = bound_texts(k);
      return fmt::format("\"{}\"", lo.empty() ? hi : lo);
    }
    case Type::Enum:
      return fmt::format("\"{}\"", k.choices.front());
    case Type::EnumList:
      return fmt::format("[\"{}\"]", k.choices.front());
    case Type::String:
      return "\"x.toml\"";
    case Type::Integer:
    case Type::Number:
      return k.min ? fmt::format("{}", static_cast<long long>(*k.min)) : "0";
    case Type::Bool:
      return "true";
    case Type::Date:
      return "2026-01-01";
    default:
      return "";
  }
}

struct Case {
  std::string text;  // the whole file
  std::string key;   // the key as an error names it ("lesions[0].depth")
};

/// The scalar children of table `t` that apply when its discriminator is `variant`.
std::vector<const Key*> scalars_of(const Key& t, const std::string& variant) {
  std::vector<const Key*> out;
  for (const auto& c : t.children) {
    if (c.type != Type::Table && c.type != Type::TableArray) out.push_back(&c);
  }
  if (auto it = t.variants.find(variant); it != t.variants.end()) {
    for (const auto& c : it->second) out.push_back(&c);
  }
  return out;
}

/// A file that sets the key `fk` to `value` and every required key around it.
Case file_with(const Key& root, const schema::FlatKey& fk, const std::string& value) {
  std::vector<std::string> parts;
  for (std::size_t at = 0;;) {
    const auto dot = fk.path.find('.', at);
    parts.push_back(fk.path.substr(at, dot == std::string::npos ? dot : dot - at));
    if (dot == std::string::npos) break;
    at = dot + 1;
  }
  // The variant asked for ("kind = \"pen\"" -> "pen").
  std::string want;
  if (const auto q = fk.variant.find('"'); q != std::string::npos) {
    want = fk.variant.substr(q + 1, fk.variant.size() - q - 2);
  }
  Case c;
  std::string header, key_prefix;
  const Key* table = &root;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    // Variant of this table: the one asked for, else the discriminator's default or first choice.
    std::string variant;
    const Key* disc = nullptr;
    if (!table->discriminator.empty()) {
      for (const auto& ch : table->children) {
        if (ch.name == table->discriminator) disc = &ch;
      }
      variant = !want.empty()          ? want
                : disc->def.size() > 2 ? disc->def.substr(1, disc->def.size() - 2)
                                       : disc->choices.front();
      c.text += fmt::format("{} = \"{}\"\n", table->discriminator, variant);
    }
    for (const Key* k : scalars_of(*table, variant)) {
      if (k == disc || (last && k == fk.key) || !k->required) continue;
      if (last && k->name == fk.key->name) continue;
      c.text += fmt::format("{} = {}\n", k->name, filler(*k));
    }
    if (last) {
      c.text += fmt::format("{} = {}\n", fk.key->name, value);
      c.key = key_prefix + fk.key->name;
      break;
    }
    // Descend into the next table (or array of tables: one element).
    std::string name = parts[i];
    const bool array = name.size() > 2 && name.substr(name.size() - 2) == "[]";
    if (array) name.resize(name.size() - 2);
    const Key* next = nullptr;
    for (const auto& ch : table->children) {
      if (ch.name == name) next = &ch;
    }
    for (const auto& [v, keys] : table->variants) {
      for (const auto& ch : keys) {
        if (ch.name == name && !next) next = &ch;
      }
    }
    EXPECT_NE(next, nullptr) << fk.path;
    if (!next) return c;
    header = header.empty() ? name : header + "." + name;
    key_prefix += array ? name + "[0]." : name + ".";
    c.text += array ? fmt::format("\n[[{}]]\n", header) : fmt::format("\n[{}]\n", header);
    table = next;
  }
  return c;
}

std::string error_of(const std::string& text, const Key& root) {
  try {
    parse_scenario_text(text, "bounds.toml", root);
  } catch (const InputError& e) {
    return e.line();
  }
  return {};
}

struct Root {
  const char* name;
  const Key* root;
};

std::vector<Root> roots() {
  return {{"scenario", &scenario_schema()},
          {"cohort", &protocol::cohort_schema()},
          {"plan", &protocol::plan_schema()},
          {"validation", &protocol::validation_schema()}};
}

TEST(Bounds, EveryDocumentedBoundIsAcceptedInEveryUnitAndJustOutsideRefused) {
  int accepted = 0, refused = 0;
  for (const Root& r : roots()) {
    for (const auto& fk : schema::flatten(*r.root)) {
      const Key& k = *fk.key;
      const bool list = k.type == Type::QuantityList;  // each item is checked: one item
      if (k.type != Type::Quantity && k.type != Type::Integer && k.type != Type::Number && !list) {
        continue;
      }
      const auto item = [&](const std::string& v) { return list ? "[" + v + "]" : v; };
      const auto [lo, hi] = bound_texts(k);
      for (const bool upper : {false, true}) {
        const std::string& text = upper ? hi : lo;
        if (text.empty() || (!upper && k.min_exclusive)) continue;
        const std::string where = fmt::format("{} {} ({}) {} bound '{}'", r.name, fk.path,
                                              fk.variant, upper ? "upper" : "lower", text);
        const Bound b = split_bound(text);
        // At the bound, as documented and in every other unit.
        std::vector<std::string> forms;
        if (k.type == Type::Quantity || list) {
          const auto& units = units_for(k.dim);
          double si = 0;
          for (const auto& u : units) {
            if (u.symbol == b.unit) si = b.number * u.to_si;
          }
          forms.push_back(fmt::format("\"{}\"", text));
          for (const auto& u : units) {
            if (u.symbol.empty()) continue;
            forms.push_back(fmt::format("\"{} {}\"", number_text(si / u.to_si), u.symbol));
          }
        } else {
          forms.push_back(text);
        }
        for (const auto& v : forms) {
          const Case c = file_with(*r.root, fk, item(v));
          EXPECT_EQ(error_of(c.text, *r.root), "") << where << " written " << v << "\n" << c.text;
          ++accepted;
        }
        // Just outside.
        std::string out;
        if (k.type == Type::Integer) {
          out = fmt::format("{}", static_cast<long long>(b.number) + (upper ? 1 : -1));
        } else {
          const double step = std::max(std::fabs(b.number), 1.0) * 1e-9;
          const std::string n = fmt::format("{:.17g}", b.number + (upper ? step : -step));
          out = k.type == Type::Quantity || list ? fmt::format("\"{} {}\"", n, b.unit) : n;
        }
        const Case c = file_with(*r.root, fk, item(out));
        const std::string err = error_of(c.text, *r.root);
        EXPECT_NE(err.find(c.key + ": "), std::string::npos) << where << ": " << err;
        EXPECT_NE(err.find("is out of range (expected " + schema::range_text(k) + ")"),
                  std::string::npos)
            << where << " written " << out << ": " << err;
        ++refused;
      }
    }
  }
  // Not vacuous: the schemas have well over a hundred documented bounds.
  EXPECT_GT(refused, 150);
  EXPECT_GT(accepted, 500);
}

TEST(Bounds, SeedRangeIsTheSameForTheScenarioKeyAndTheFlag) {
  const Key& seed = scenario_key("seed");
  EXPECT_EQ(*seed.min, 0.0);
  EXPECT_EQ(*seed.max, static_cast<double>(kMaxSeed));
  EXPECT_EQ(kMaxSeed, (std::uint64_t{1} << 53) - 1);
  EXPECT_EQ(parse_seed_option("9007199254740991"), kMaxSeed);
  EXPECT_EQ(parse_seed_option("0"), 0u);
  for (const char* bad : {"9007199254740992", "18446744073709551615", "18446744073709551616", "-1",
                          "", "+5", " 5", "5 ", "0x10", "1e3", "5.0", "-0"}) {
    EXPECT_THROW(parse_seed_option(bad), InputError) << "'" << bad << "'";
  }
}

/// Keys of cohort, planner and validation files that mirror a scenario key have its range,
/// unit and choices (built by mirror_key, not copied by hand).
TEST(Bounds, MirroredKeysHaveTheScenarioKeysRangesAndChoices) {
  struct Mirror {
    const Key* root;
    std::string path;      // in that root, as flatten() names it
    std::string scenario;  // scenario_key path
  };
  const Key& co = protocol::cohort_schema();
  const Key& pl = protocol::plan_schema();
  const Key& va = protocol::validation_schema();
  const std::vector<Mirror> mirrors = {
      {&co, "seed", "seed"},
      {&co, "population.age_mean", "patient.age"},
      {&co, "population.age_min", "patient.age"},
      {&co, "population.age_max", "patient.age"},
      {&co, "population.sites[].site", "patient.site"},
      {&co, "protocol.needle_length", "device.needle_length@roller"},
      {&co, "protocol.passes", "technique.passes"},
      {&co, "protocol.sessions", "course.sessions"},
      {&co, "protocol.interval", "course.interval"},
      {&co, "protocol.follow_up", "course.follow_up"},
      {&pl, "seed", "seed"},
      {&pl, "patient.site", "patient.site"},
      {&pl, "patient.age", "patient.age"},
      {&pl, "patient.sex", "patient.sex"},
      {&pl, "patient.fitzpatrick", "patient.fitzpatrick"},
      {&pl, "patient.glogau", "patient.glogau"},
      {&pl, "scars[].depth", "lesions.depth@icepick"},
      {&pl, "scars[].width", "lesions.width@icepick"},
      {&pl, "search.follow_up", "course.follow_up"},
      {&pl, "search.sessions_min", "course.sessions"},
      {&pl, "search.sessions_max", "course.sessions"},
      {&va, "case[].site", "patient.site"},
      {&va, "case[].age", "patient.age"},
      {&va, "case[].sex", "patient.sex"},
      {&va, "case[].fitzpatrick", "patient.fitzpatrick"},
      {&va, "case[].fitzpatrick_max", "patient.fitzpatrick"},
      {&va, "case[].protocol.needle_length", "device.needle_length@roller"},
      {&va, "case[].protocol.sessions", "course.sessions"},
  };
  for (const auto& m : mirrors) {
    const Key* k = nullptr;
    for (const auto& fk : schema::flatten(*m.root)) {
      if (fk.path == m.path) k = fk.key;
    }
    ASSERT_NE(k, nullptr) << m.path;
    const Key& s = scenario_key(m.scenario);
    EXPECT_EQ(k->type, s.type) << m.path;
    EXPECT_EQ(k->dim, s.dim) << m.path;
    EXPECT_EQ(k->min, s.min) << m.path;
    EXPECT_EQ(k->max, s.max) << m.path;
    EXPECT_EQ(k->choices, s.choices) << m.path;
    EXPECT_EQ(schema::range_text(*k), schema::range_text(s)) << m.path;
  }
  // The ages that started this: 12 to 110 years everywhere.
  EXPECT_EQ(schema::range_text(scenario_key("patient.age")), "12 years to 110 years");
}

TEST(Bounds, DateFlagIsStrictAndHasTheScenarioDatesRange) {
  EXPECT_EQ(parse_date_option("2026-03-15", "--start-date"), "2026-03-15");
  EXPECT_EQ(parse_date_option("2024-02-29", "--start-date"), "2024-02-29");  // a leap day
  EXPECT_EQ(parse_date_option("1900-01-01", "--start-date"), "1900-01-01");
  EXPECT_EQ(parse_date_option("2200-12-31", "--start-date"), "2200-12-31");
  for (const char* bad :
       {"",           "2026-02-29",  "2100-02-29",  "2026-02-30",       "2026-04-31", "2026-13-01",
        "2026-00-10", "2026-01-00",  "1899-12-31",  "2201-01-01",       "2026-3-15",  "2026/03/15",
        "15-03-2026", " 2026-03-15", "2026-03-15 ", "2026-03-15T10:00", "+026-03-15", "2026-03-1x",
        "tomorrow",   "２026-03-15"}) {
    try {
      parse_date_option(bad, "--start-date");
      ADD_FAILURE() << "'" << bad << "' accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(e.line().rfind("command line: --start-date: ", 0), 0u) << e.line();
    }
  }
}

}  // namespace
}  // namespace mnsim
