#include "core/schema.hpp"
#include "core/command_line.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace mnsim::schema {

Key table(std::string name, std::string doc, std::vector<Key> children, bool always) {
  Key k;
  k.name = std::move(name);
  k.type = Type::Table;
  k.doc = std::move(doc);
  k.children = std::move(children);
  k.always = always;
  return k;
}

Key table_array(std::string name, std::string doc, std::vector<Key> children,
                std::size_t max_items) {
  Key k;
  k.name = std::move(name);
  k.type = Type::TableArray;
  k.doc = std::move(doc);
  k.children = std::move(children);
  k.max_items = max_items;
  return k;
}

Key string(std::string name, std::string def, std::string doc) {
  Key k;
  k.name = std::move(name);
  k.type = Type::String;
  if (!def.empty()) k.def = fmt::format("\"{}\"", def);
  k.doc = std::move(doc);
  return k;
}

Key enumeration(std::string name, std::vector<std::string> choices, std::string def,
                std::string doc) {
  Key k;
  k.name = std::move(name);
  k.type = Type::Enum;
  k.choices = std::move(choices);
  if (!def.empty()) k.def = fmt::format("\"{}\"", def);
  k.doc = std::move(doc);
  return k;
}

Key enum_list(std::string name, std::vector<std::string> choices, std::string def,
              std::string doc) {
  Key k;
  k.name = std::move(name);
  k.type = Type::EnumList;
  k.choices = std::move(choices);
  k.def = std::move(def);
  k.doc = std::move(doc);
  return k;
}

Key value_list(std::string name, std::string doc, std::size_t max_items) {
  Key k;
  k.name = std::move(name);
  k.type = Type::ValueList;
  k.doc = std::move(doc);
  k.max_items = max_items;
  return k;
}

Key integer(std::string name, std::string def, std::string doc, std::optional<double> lo,
            std::optional<double> hi) {
  Key k;
  k.name = std::move(name);
  k.type = Type::Integer;
  k.def = std::move(def);
  k.doc = std::move(doc);
  k.min = lo;
  k.max = hi;
  return k;
}

Key number(std::string name, std::string def, std::string doc, std::optional<double> lo,
           std::optional<double> hi) {
  Key k;
  k.name = std::move(name);
  k.type = Type::Number;
  k.def = std::move(def);
  k.doc = std::move(doc);
  k.min = lo;
  k.max = hi;
  return k;
}

Key boolean(std::string name, std::string def, std::string doc) {
  Key k;
  k.name = std::move(name);
  k.type = Type::Bool;
  k.def = std::move(def);
  k.doc = std::move(doc);
  return k;
}

Key quantity(std::string name, Dim dim, std::string unit, std::string def, std::string doc,
             std::optional<double> lo, std::optional<double> hi) {
  Key k;
  k.name = std::move(name);
  k.type = Type::Quantity;
  k.dim = dim;
  k.unit = std::move(unit);
  if (!def.empty()) k.def = fmt::format("\"{}\"", def);
  k.doc = std::move(doc);
  k.min = lo;
  k.max = hi;
  return k;
}

Key quantity_list(std::string name, Dim dim, std::string unit, std::string def, std::string doc,
                  std::optional<double> lo, std::optional<double> hi, std::size_t max_items) {
  Key k;
  k.name = std::move(name);
  k.type = Type::QuantityList;
  k.dim = dim;
  k.unit = std::move(unit);
  k.def = std::move(def);
  k.doc = std::move(doc);
  k.min = lo;
  k.max = hi;
  k.max_items = max_items;
  return k;
}

Key date(std::string name, std::string doc) {
  Key k;
  k.name = std::move(name);
  k.type = Type::Date;
  k.doc = std::move(doc);
  return k;
}

bool clamp_to_range(const Key& k, double& v) {
  if (k.type == Type::Integer) {  // exact: no tolerance between neighbouring integers
    return !((k.min && (k.min_exclusive ? v <= *k.min : v < *k.min)) || (k.max && v > *k.max));
  }
  const auto tol = [](double bound) { return kBoundRelTolerance * std::fabs(bound); };
  if (k.min) {
    if (k.min_exclusive ? v <= *k.min + tol(*k.min) : v < *k.min - tol(*k.min)) return false;
    if (v < *k.min) v = *k.min;
  }
  if (k.max) {
    if (v > *k.max + tol(*k.max)) return false;
    if (v > *k.max) v = *k.max;
  }
  return true;
}

std::string type_name(const Key& k) {
  auto quoted_list = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& c : v) {
      if (!s.empty()) s += ", ";
      s += fmt::format("\"{}\"", c);
    }
    return s;
  };
  switch (k.type) {
    case Type::Table:
      return "table";
    case Type::TableArray:
      return "array of tables";
    case Type::String:
      return "string";
    case Type::Enum:
      return fmt::format("one of {}", quoted_list(k.choices));
    case Type::EnumList:
      return fmt::format("list of {}", quoted_list(k.choices));
    case Type::ValueList:
      return "list of values";
    case Type::Integer:
      return "integer";
    case Type::Number:
      return "number";
    case Type::Bool:
      return "boolean";
    case Type::Quantity:
      return std::string(dim_name(k.dim));
    case Type::QuantityList:
      return fmt::format("list of {}s, ascending", dim_name(k.dim));
    case Type::Date:
      return "date (YYYY-MM-DD)";
  }
  return "?";
}

std::string range_text(const Key& k) {
  auto show = [&](double v) {
    if (k.type == Type::Quantity || k.type == Type::QuantityList) return format_nice(v, k.dim);
    if (k.type == Type::Integer) return fmt::format("{}", static_cast<long long>(v));
    return fmt::format("{:g}", v);
  };
  if (k.min && k.max) {
    return fmt::format("{}{} to {}", k.min_exclusive ? "above " : "", show(*k.min), show(*k.max));
  }
  if (k.min) return fmt::format("{} {}", k.min_exclusive ? ">" : ">=", show(*k.min));
  if (k.max) return fmt::format("<= {}", show(*k.max));
  return {};
}

namespace {
void flatten_into(const Key& k, const std::string& prefix, const std::string& variant,
                  std::vector<FlatKey>& out) {
  for (const auto& c : k.children) {
    std::string path = prefix.empty() ? c.name : prefix + "." + c.name;
    if (c.type == Type::TableArray) path += "[]";
    out.push_back({path, &c, variant});
    if (c.type == Type::Table || c.type == Type::TableArray) flatten_into(c, path, variant, out);
  }
  for (const auto& [value, keys] : k.variants) {
    for (const auto& c : keys) {
      std::string path = prefix.empty() ? c.name : prefix + "." + c.name;
      if (c.type == Type::TableArray) path += "[]";
      out.push_back({path, &c, fmt::format("{} = \"{}\"", k.discriminator, value)});
      if (c.type == Type::Table || c.type == Type::TableArray) {
        flatten_into(c, path, fmt::format("{} = \"{}\"", k.discriminator, value), out);
      }
    }
  }
}
}  // namespace

std::vector<FlatKey> flatten(const Key& root) {
  std::vector<FlatKey> out;
  flatten_into(root, "", "", out);
  return out;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string suggest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = static_cast<std::size_t>(-1);
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  // Not a candidate that shares nothing with the word ('' is 2 edits from "rf").
  if (best_d <= limit && best_d < best.size()) return best;
  // A prefix match also counts ("needle" -> "needle_length").
  for (const auto& c : candidates) {
    if (word.size() >= 4 && c.rfind(word, 0) == 0) return c;
  }
  return {};
}

const Key& find_key(const Key& root, const std::string& path) {
  const auto plain = [](std::string p) {  // "lesions[].kind" -> "lesions.kind"
    for (auto at = p.find("[]"); at != std::string::npos; at = p.find("[]")) p.erase(at, 2);
    return p;
  };
  const auto at = path.find('@');
  const std::string want = plain(path.substr(0, at));
  const std::string variant =
      at == std::string::npos ? std::string() : fmt::format("= \"{}\"", path.substr(at + 1));
  for (const auto& fk : flatten(root)) {
    if (plain(fk.path) != want) continue;
    const bool same_variant = variant.empty()
                                  ? fk.variant.empty()
                                  : fk.variant.size() >= variant.size() &&
                                        fk.variant.compare(fk.variant.size() - variant.size(),
                                                           variant.size(), variant) == 0;
    if (same_variant) return *fk.key;
  }
  throw std::logic_error("internal: no schema key '" + path + "'");
}

Key mirror(const Key& source, std::string name, const std::string& def, std::string doc) {
  Key k = source;
  k.name = std::move(name);
  k.doc = std::move(doc);
  k.required = false;
  const bool quoted = k.type == Type::Quantity || k.type == Type::String || k.type == Type::Enum;
  k.def = def.empty() ? std::string() : quoted ? fmt::format("\"{}\"", def) : def;
  return k;
}

Key seed_key(std::string doc) {
  return integer("seed", "1", std::move(doc), 0, static_cast<double>(kMaxSeed));
}

}  // namespace mnsim::schema
