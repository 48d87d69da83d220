#include "core/scenario.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/command_line.hpp"

namespace mnsim {

// ---------------------------------------------------------------------------------------------
// Table access

bool Table::has(const std::string& key) const {
  return values_.count(key) != 0;
}

const Value& Table::value(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    throw std::logic_error(fmt::format("internal: scenario key '{}' not present", key_path(key)));
  }
  return it->second;
}

long long Table::integer(const std::string& key) const {
  return static_cast<long long>(value(key).num);
}

bool Table::has_table(const std::string& key) const {
  return tables_.count(key) != 0;
}

const Table& Table::table(const std::string& key) const {
  auto it = tables_.find(key);
  if (it == tables_.end()) {
    throw std::logic_error(fmt::format("internal: scenario table '{}' not present", key_path(key)));
  }
  return it->second;
}

const std::vector<Table>& Table::tables(const std::string& key) const {
  static const std::vector<Table> empty;
  auto it = arrays_.find(key);
  return it == arrays_.end() ? empty : it->second;
}

SourceLoc Table::loc_of(const std::string& key) const {
  if (auto it = values_.find(key); it != values_.end() && !it->second.defaulted) {
    return it->second.loc;
  }
  if (auto it = tables_.find(key); it != tables_.end()) return it->second.loc();
  return loc_;
}

std::string Table::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void Table::fail(const std::string& key, const std::string& what,
                 const std::string& expected) const {
  throw InputError(loc_of(key), key_path(key), what, expected);
}

void Table::set(const std::string& key, Value v) {
  if (!values_.count(key)) order_.push_back(key);
  values_[key] = std::move(v);
}

Table& Table::add_table(const std::string& key, Table t) {
  if (!tables_.count(key)) order_.push_back(key);
  return tables_[key] = std::move(t);
}

std::vector<Table>& Table::add_array(const std::string& key) {
  if (!arrays_.count(key)) order_.push_back(key);
  return arrays_[key];
}

void Table::to_toml_into(std::string& out, const std::string& header) const {
  for (const auto& k : order_) {
    if (auto it = values_.find(k); it != values_.end()) {
      out +=
          fmt::format("{} = {}{}\n", k, it->second.text, it->second.defaulted ? "  # default" : "");
    }
  }
  for (const auto& k : order_) {
    const std::string h = header.empty() ? k : header + "." + k;
    if (auto it = tables_.find(k); it != tables_.end()) {
      out += fmt::format("\n[{}]\n", h);
      it->second.to_toml_into(out, h);
    } else if (auto at = arrays_.find(k); at != arrays_.end()) {
      for (const auto& t : at->second) {
        out += fmt::format("\n[[{}]]\n", h);
        t.to_toml_into(out, h);
      }
    }
  }
}

std::string Table::to_toml() const {
  std::string out;
  to_toml_into(out, "");
  return out;
}

nlohmann::json Table::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& k : order_) {
    if (auto it = values_.find(k); it != values_.end()) {
      const Value& v = it->second;
      switch (v.type) {
        case schema::Type::Integer:
          j[k] = static_cast<long long>(v.num);
          break;
        case schema::Type::Number:
          j[k] = v.num;
          break;
        case schema::Type::Bool:
          j[k] = v.flag;
          break;
        case schema::Type::EnumList:
        case schema::Type::QuantityList:
          j[k] = v.list;
          break;
        case schema::Type::ValueList: {
          nlohmann::json arr = nlohmann::json::array();
          for (const auto& t : v.list) {
            nlohmann::json x = nlohmann::json::parse(t, nullptr, false);
            arr.push_back(x.is_discarded() ? nlohmann::json(t) : x);
          }
          j[k] = arr;
          break;
        }
        default:
          j[k] = v.str;
          break;
      }
    } else if (auto tt = tables_.find(k); tt != tables_.end()) {
      j[k] = tt->second.to_json();
    } else if (auto at = arrays_.find(k); at != arrays_.end()) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& t : at->second) arr.push_back(t.to_json());
      j[k] = arr;
    }
  }
  return j;
}

// ---------------------------------------------------------------------------------------------
// Validation

namespace {

/// "a" or "an" before a dimension's name ("an energy").
const char* article(std::string_view name) {
  return !name.empty() && std::string_view("aeiou").find(name.front()) != std::string_view::npos
             ? "an"
             : "a";
}

using schema::Key;
using schema::Type;

SourceLoc loc_from(const toml::source_region& r, const std::string& file) {
  // A value set on the command line carries its own place ("--set KEY": apply_override).
  const bool set_here = r.path && r.path->rfind("--set ", 0) == 0;
  return SourceLoc{set_here ? *r.path : file, static_cast<int>(r.begin.line),
                   static_cast<int>(r.begin.column)};
}

std::string toml_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        // Control characters (TOML forbids them raw in basic strings: below 0x20 and DEL).
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string node_kind(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

class Validator {
 public:
  explicit Validator(std::string file) : file_(std::move(file)) {}

  void table(const toml::table& src, const Key& spec, Table& out) {
    // Allowed children: common ones plus the selected variant's.
    std::vector<const Key*> allowed;
    for (const auto& c : spec.children) allowed.push_back(&c);
    std::string variant;
    if (!spec.discriminator.empty()) {
      if (const toml::node* d = src.get(spec.discriminator); d && d->is_string()) {
        variant = d->as_string()->get();
      } else if (!d) {
        // Absent: the discriminator's default selects the variant.
        for (const auto& c : spec.children) {
          if (c.name == spec.discriminator && c.def.size() >= 2) {
            variant = c.def.substr(1, c.def.size() - 2);
          }
        }
      }
      if (auto it = spec.variants.find(variant); it != spec.variants.end()) {
        for (const auto& c : it->second) allowed.push_back(&c);
      }
    }
    // The discriminator ("kind") first: it decides which keys are valid, so an unknown kind is
    // reported at the kind, with the known kinds, not as a key of another kind.
    if (!spec.discriminator.empty()) {
      const toml::node* d = src.get(spec.discriminator);
      for (const auto& c : spec.children) {
        if (c.name != spec.discriminator || (!d && !c.required)) continue;
        Table scratch(out.path(), out.loc());
        child(d, c, scratch);  // a missing required kind is reported here, at the table
      }
    }
    // Unknown keys next, in file order.
    for (auto&& [k, node] : src) {
      const std::string name(k.str());
      const bool known = std::any_of(allowed.begin(), allowed.end(),
                                     [&](const Key* a) { return a->name == name; });
      if (!known) unknown_key(k, node, spec, allowed, variant, out);
    }
    for (const Key* c : allowed) {
      const toml::node* node = src.get(c->name);
      child(node, *c, out);
    }
  }

 private:
  [[noreturn]] void unknown_key(const toml::key& k, const toml::node& node, const Key& spec,
                                const std::vector<const Key*>& allowed, const std::string& variant,
                                const Table& out) {
    std::vector<std::string> names;
    for (const Key* a : allowed) names.push_back(a->name);
    const std::string name(k.str());
    SourceLoc loc = loc_from(k.source(), file_);
    if (loc.line == 0) loc = loc_from(node.source(), file_);
    std::string what = fmt::format("unknown key '{}'", name);
    // A key that belongs to another variant gets a precise message.
    for (const auto& [v, keys] : spec.variants) {
      for (const auto& vk : keys) {
        if (vk.name == name && v != variant) {
          throw InputError(
              loc, out.key_path(name),
              fmt::format("key '{}' is only valid when {} = \"{}\"", name, spec.discriminator, v),
              variant.empty()
                  ? "set " + spec.discriminator + " first"
                  : fmt::format("this table has {} = \"{}\"", spec.discriminator, variant));
        }
      }
    }
    const std::string guess = schema::suggest(name, names);
    std::string expected;
    if (!guess.empty()) {
      expected = fmt::format("did you mean '{}'?", guess);
    } else {
      std::string list;
      for (std::size_t i = 0; i < names.size() && i < 12; ++i) {
        list += (i ? ", " : "") + names[i];
      }
      if (names.size() > 12) list += ", ...";
      expected = names.empty() ? "this table takes no keys" : "known keys: " + list;
    }
    throw InputError(loc, out.key_path(name), what, expected);
  }

  [[noreturn]] void wrong_type(const toml::node& node, const Key& spec, const Table& parent,
                               const std::string& expected) {
    throw InputError(loc_from(node.source(), file_), parent.key_path(spec.name),
                     fmt::format("expected {}, found {}", schema::type_name(spec), node_kind(node)),
                     expected);
  }

  /// Inclusive bounds (schema::clamp_to_range): a value at a documented bound, in any unit, is
  /// accepted and set to the bound exactly.
  void check_range(double& v, const Key& spec, const Table& parent, const SourceLoc& loc,
                   const std::string& shown) {
    if (!schema::clamp_to_range(spec, v)) {
      throw InputError(loc, parent.key_path(spec.name), fmt::format("{} is out of range", shown),
                       fmt::format("expected {}", schema::range_text(spec)));
    }
  }

  /// A list of quantities: each a string with a unit, in range, after the one before it.
  /// The array of a list key (EnumList, QuantityList, ValueList): not an array (`example` says
  /// what is expected), an empty list the key does not allow (`at_least`) or more than max_items
  /// items is an InputError at the key.
  const toml::array& list_items(const toml::node& node, const Key& spec, const Table& out,
                                const Value& v, const std::string& example,
                                const std::string& at_least) {
    const std::string path = out.key_path(spec.name);
    const toml::array* a = node.as_array();
    if (!a) wrong_type(node, spec, out, example);
    if (a->empty() && !spec.allow_empty) throw InputError(v.loc, path, "empty list", at_least);
    if (a->size() > spec.max_items) {
      throw InputError(v.loc, path, fmt::format("{} items", a->size()),
                       fmt::format("at most {}", spec.max_items));
    }
    return *a;
  }

  void quantity_list(const toml::node& node, const Key& spec, const Table& out, Value& v) {
    const std::string path = out.key_path(spec.name);
    const toml::array* a =
        &list_items(node, spec, out, v,
                    fmt::format("an array of {}s with units, e.g. [\"2 {}\", \"7 {}\"]",
                                dim_name(spec.dim), spec.unit, spec.unit),
                    "at least one " + std::string(dim_name(spec.dim)));
    std::string text = "[";
    for (const toml::node& item : *a) {
      const SourceLoc iloc = loc_from(item.source(), file_);
      if (item.is_integer() || item.is_floating_point()) {
        const double bare = item.is_integer() ? static_cast<double>(item.as_integer()->get())
                                              : item.as_floating_point()->get();
        throw InputError(
            iloc, path, fmt::format("bare number {:g} has no unit", bare),
            fmt::format("{} {} with a unit, e.g. \"{:g} {}\"", article(dim_name(spec.dim)),
                        dim_name(spec.dim), bare, spec.unit));
      }
      if (!item.is_string()) {
        throw InputError(iloc, path, fmt::format("list item is {}", node_kind(item)),
                         expected_units(spec.dim));
      }
      const std::string s = item.as_string()->get();
      const ParsedQuantity q = parse_quantity(s, spec.dim);
      if (!q.ok()) throw InputError(iloc, path, q.error, expected_units(spec.dim));
      double si = q.si;
      check_range(si, spec, out, iloc, fmt::format("\"{}\"", s));
      if (!v.nums.empty() && !(si > v.nums.back())) {
        throw InputError(iloc, path, fmt::format("\"{}\" is not after \"{}\"", s, v.list.back()),
                         "a list in ascending order, each value once");
      }
      v.nums.push_back(si);
      v.list.push_back(s);
      text += (text.size() > 1 ? ", " : "") + toml_quote(s);
    }
    v.text = text + "]";
  }

  void child(const toml::node* node, const Key& spec, Table& out) {
    if (spec.type == Type::Table) {
      if (node) {
        const toml::table* t = node->as_table();
        if (!t) wrong_type(*node, spec, out, "a [" + out.key_path(spec.name) + "] table");
        Table sub(out.key_path(spec.name), loc_from(node->source(), file_));
        table(*t, spec, sub);
        out.add_table(spec.name, std::move(sub));
      } else if (spec.always || spec.required) {
        if (spec.required) {
          throw InputError(out.loc().line ? out.loc() : SourceLoc{file_, 1, 1},
                           out.key_path(spec.name), "missing required table",
                           fmt::format("add a [{}] table", out.key_path(spec.name)));
        }
        Table sub(out.key_path(spec.name), out.loc());
        toml::table empty;
        table(empty, spec, sub);
        out.add_table(spec.name, std::move(sub));
      }
      return;
    }
    if (spec.type == Type::TableArray) {
      if (!node) {
        if (spec.required) {
          throw InputError(out.loc().line ? out.loc() : SourceLoc{file_, 1, 1},
                           out.key_path(spec.name), "missing required array of tables",
                           fmt::format("add at least one [[{}]] table", out.key_path(spec.name)));
        }
        return;
      }
      const toml::array* a = node->as_array();
      if (!a || !a->is_array_of_tables()) {
        wrong_type(*node, spec, out, "one [[" + out.key_path(spec.name) + "]] table per item");
      }
      if (a->size() > spec.max_items) {
        throw InputError(loc_from(node->source(), file_), out.key_path(spec.name),
                         fmt::format("{} items", a->size()),
                         fmt::format("at most {}", spec.max_items));
      }
      auto& arr = out.add_array(spec.name);
      std::size_t i = 0;
      for (const toml::node& item : *a) {
        Table sub(fmt::format("{}[{}]", out.key_path(spec.name), i++),
                  loc_from(item.source(), file_));
        table(*item.as_table(), spec, sub);
        arr.push_back(std::move(sub));
      }
      return;
    }

    Value v;
    v.type = spec.type;
    v.dim = spec.dim;
    if (!node) {
      if (spec.required) {
        throw InputError(out.loc().line ? out.loc() : SourceLoc{file_, 1, 1},
                         out.key_path(spec.name), "missing required key",
                         fmt::format("{}: {}", schema::type_name(spec), spec.doc));
      }
      if (spec.def.empty()) return;  // optional, no default: stays absent
      // Defaults are parsed through the same path as user text (schema self-check).
      const std::string text = fmt::format("{} = {}", spec.name, spec.def);
      toml::table t;
      try {
        t = toml::parse(std::string_view(text), std::string_view("<schema default>"));
      } catch (const toml::parse_error&) {
        throw std::logic_error("internal: bad schema default for " + out.key_path(spec.name));
      }
      child(t.get(spec.name), spec, out);
      Value dv = out.value(spec.name);
      dv.defaulted = true;
      dv.loc = out.loc();
      out.set(spec.name, dv);
      return;
    }
    v.loc = loc_from(node->source(), file_);
    const std::string path = out.key_path(spec.name);
    switch (spec.type) {
      case Type::String: {
        if (!node->is_string()) {
          wrong_type(
              *node, spec, out,
              spec.file_path ? "a file name in quotes, relative to this file" : "a quoted string");
        }
        v.str = node->as_string()->get();
        v.text = toml_quote(v.str);
        if (spec.file_path) {
          if (v.str.empty()) {
            throw InputError(v.loc, path, "empty file name", spec.doc);
          }
          // Written back absolute: the resolved file may be read from another folder.
          namespace fs = std::filesystem;
          fs::path p(v.str);
          if (p.is_relative()) p = fs::path(file_).parent_path() / p;
          std::error_code ec;
          const fs::path abs = fs::absolute(p, ec);
          v.text = toml_quote((ec ? p : abs).lexically_normal().string());
        }
        break;
      }
      case Type::Enum: {
        if (!node->is_string()) wrong_type(*node, spec, out, "a quoted string");
        v.str = node->as_string()->get();
        if (std::find(spec.choices.begin(), spec.choices.end(), v.str) == spec.choices.end()) {
          const std::string guess = schema::suggest(v.str, spec.choices);
          throw InputError(
              v.loc, path, fmt::format("unknown value '{}'", v.str),
              guess.empty() ? schema::type_name(spec)
                            : fmt::format("did you mean '{}'? {}", guess, schema::type_name(spec)));
        }
        v.text = toml_quote(v.str);
        break;
      }
      case Type::EnumList: {
        const toml::array* a =
            &list_items(*node, spec, out, v, "an array of strings, e.g. [\"a\", \"b\"]",
                        "at least one of " + schema::type_name(spec));
        std::string text = "[";
        for (const toml::node& item : *a) {
          const SourceLoc iloc = loc_from(item.source(), file_);
          if (!item.is_string()) {
            throw InputError(iloc, path, fmt::format("list item is {}", node_kind(item)),
                             schema::type_name(spec));
          }
          const std::string s = item.as_string()->get();
          if (std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) {
            const std::string guess = schema::suggest(s, spec.choices);
            throw InputError(
                iloc, path, fmt::format("unknown value '{}'", s),
                guess.empty() ? schema::type_name(spec) : fmt::format("did you mean '{}'?", guess));
          }
          if (std::find(v.list.begin(), v.list.end(), s) != v.list.end()) {
            throw InputError(iloc, path, fmt::format("'{}' is listed twice", s),
                             "each value at most once");
          }
          v.list.push_back(s);
          text += (text.size() > 1 ? ", " : "") + toml_quote(s);
        }
        v.text = text + "]";
        break;
      }
      case Type::ValueList: {
        const toml::array* a =
            &list_items(*node, spec, out, v, "an array of values, e.g. [\"0.5 mm\", \"1 mm\"]",
                        "at least one value");
        std::string text = "[";
        for (const toml::node& item : *a) {
          const SourceLoc iloc = loc_from(item.source(), file_);
          std::string t;
          if (const auto* str = item.as_string()) {
            t = toml_quote(str->get());
          } else if (const auto* i = item.as_integer()) {
            t = fmt::format("{}", i->get());
          } else if (const auto* fl = item.as_floating_point()) {
            const double x = fl->get();
            if (!std::isfinite(x)) {
              throw InputError(iloc, path, "list item is not a finite number", "a finite number");
            }
            t = fmt::format("{}", x);
            if (t.find_first_of(".eE") == std::string::npos) t += ".0";  // stays a float
          } else if (const auto* b = item.as_boolean()) {
            t = b->get() ? "true" : "false";
          } else {
            throw InputError(iloc, path, fmt::format("list item is {}", node_kind(item)),
                             "a string, a number or a boolean");
          }
          v.list.push_back(t);
          v.item_locs.push_back(iloc);
          text += (text.size() > 1 ? ", " : "") + t;
        }
        v.text = text + "]";
        break;
      }
      case Type::QuantityList:
        quantity_list(*node, spec, out, v);
        break;
      case Type::Integer: {
        if (!node->is_integer()) {
          wrong_type(*node, spec, out,
                     node->is_floating_point() ? "a whole number without a decimal point"
                                               : "a whole number");
        }
        const long long i = node->as_integer()->get();
        v.num = static_cast<double>(i);
        v.text = fmt::format("{}", i);
        check_range(v.num, spec, out, v.loc, v.text);
        break;
      }
      case Type::Number: {
        if (node->is_integer()) {
          v.num = static_cast<double>(node->as_integer()->get());
        } else if (node->is_floating_point()) {
          v.num = node->as_floating_point()->get();
        } else {
          wrong_type(*node, spec, out, "a number");
        }
        if (!std::isfinite(v.num)) {
          throw InputError(v.loc, path, "not a finite number", "a finite number");
        }
        v.text = fmt::format("{:g}", v.num);
        check_range(v.num, spec, out, v.loc, v.text);
        break;
      }
      case Type::Bool: {
        if (!node->is_boolean()) wrong_type(*node, spec, out, "true or false");
        v.flag = node->as_boolean()->get();
        v.text = v.flag ? "true" : "false";
        break;
      }
      case Type::Quantity: {
        if (node->is_integer() || node->is_floating_point()) {
          const double bare = node->is_integer() ? static_cast<double>(node->as_integer()->get())
                                                 : node->as_floating_point()->get();
          throw InputError(
              v.loc, path, fmt::format("bare number {:g} has no unit", bare),
              fmt::format("{} {} with a unit, e.g. \"{:g} {}\"", article(dim_name(spec.dim)),
                          dim_name(spec.dim), bare, spec.unit));
        }
        if (!node->is_string()) wrong_type(*node, spec, out, expected_units(spec.dim));
        v.str = node->as_string()->get();
        const ParsedQuantity q = parse_quantity(v.str, spec.dim);
        if (!q.ok()) throw InputError(v.loc, path, q.error, expected_units(spec.dim));
        v.num = q.si;
        v.text = toml_quote(v.str);
        check_range(v.num, spec, out, v.loc, fmt::format("\"{}\"", v.str));
        break;
      }
      case Type::Date: {
        int y = 0, m = 0, d = 0;
        if (const auto* dn = node->as_date()) {
          y = dn->get().year;
          m = dn->get().month;
          d = dn->get().day;
        } else if (node->is_string()) {
          const std::string s = node->as_string()->get();
          char tail = 0;
          if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) {
            throw InputError(v.loc, path, fmt::format("'{}' is not a date", s),
                             "an ISO 8601 date such as 2026-03-15");
          }
        } else {
          wrong_type(*node, spec, out, "an ISO 8601 date such as 2026-03-15");
        }
        if (!valid_date(y, m, d)) {
          throw InputError(v.loc, path,
                           fmt::format("{:04}-{:02}-{:02} is not a valid date", y, m, d),
                           "a real calendar date between 1900 and 2200");
        }
        v.str = fmt::format("{:04}-{:02}-{:02}", y, m, d);
        v.text = v.str;
        break;
      }
      case Type::Table:
      case Type::TableArray:
        break;
    }
    out.set(spec.name, std::move(v));
  }

  std::string file_;
};

}  // namespace

Override parse_override(const std::string& text, const std::string& flag) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError({"command line", 0, 0}, flag,
                     fmt::format("'{}' is not KEY=VALUE", printable(text)),
                     "a key path and a value, e.g. --set technique.passes=8");
  }
  return Override{text.substr(0, eq), text.substr(eq + 1)};
}

namespace {

// Sets one override in the parsed document (docs/cli.md, "--set").
void apply_override(toml::table& doc, const Override& o) {
  const std::string place = "--set " + o.key;  // the "file" of messages about this value
  auto fail = [&](const std::string& what, const std::string& expected) {
    throw InputError({"command line", 0, 0}, "--set", fmt::format("{}: {}", o.key, what), expected);
  };
  toml::table snippet;
  try {
    snippet = toml::parse("value = " + o.value, std::string_view(place));
  } catch (const toml::parse_error&) {
    // Not TOML: the text as a string ("1.5 mm" without quotes).
    try {
      snippet = toml::parse("value = " + toml_quote(o.value), std::string_view(place));
    } catch (const toml::parse_error& e) {
      fail(std::string("the value is not TOML text: ") + std::string(e.description()),
           "a TOML value, e.g. 8, \"1.5 mm\" or [\"horizontal\"]");
    }
  }
  // The path: names of letters, digits, _ and -, the last one a key, each before it a table or
  // an element of an array of tables ("lesions[0]").
  std::vector<std::string> parts;
  for (std::size_t a = 0;;) {
    const auto b = o.key.find('.', a);
    parts.push_back(o.key.substr(a, b == std::string::npos ? std::string::npos : b - a));
    if (b == std::string::npos) break;
    a = b + 1;
  }
  toml::table* t = &doc;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string name = parts[i];
    long index = -1;
    if (const auto br = name.find('['); br != std::string::npos && name.back() == ']') {
      const std::string digits = name.substr(br + 1, name.size() - br - 2);
      const bool ok =
          !digits.empty() && digits.size() <= 6 &&
          std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!ok)
        fail(fmt::format("'{}' is not an array element", name), "NAME[INDEX], e.g. lesions[0]");
      index = std::stol(digits);
      name = name.substr(0, br);
    }
    const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
    if (!valid) {
      fail(fmt::format("'{}' is not a key", printable(parts[i])),
           "a dotted key path, e.g. device.depth or lesions[0].depth");
    }
    const bool last = i + 1 == parts.size();
    if (last) {
      if (index >= 0) fail("sets a whole array element", "one of its keys, e.g. lesions[0].depth");
      t->insert_or_assign(name, std::move(*snippet.get("value")));
      return;
    }
    toml::node* n = t->get(name);
    if (index >= 0) {
      toml::array* arr = n ? n->as_array() : nullptr;
      if (!arr || static_cast<std::size_t>(index) >= arr->size() ||
          !(*arr)[static_cast<std::size_t>(index)].is_table()) {
        fail(fmt::format("the file has no [[{}]] number {} (counted from 0)", name, index),
             fmt::format("an index below the number of [[{}]] tables", name));
      }
      t = (*arr)[static_cast<std::size_t>(index)].as_table();
      continue;
    }
    if (!n) {
      t->insert(name, toml::table{});
      n = t->get(name);
    }
    if (!n->is_table()) {
      fail(fmt::format("'{}' is not a table in the file", name),
           "a path through tables, e.g. device.depth");
    }
    t = n->as_table();
  }
}

}  // namespace

Table parse_scenario_text(const std::string& text, const std::string& file, const schema::Key& root,
                          const std::string& what, const std::vector<Override>& overrides) {
  const SourceLoc whole{file, 1, 1};
  if (text.size() > kMaxScenarioBytes) {
    throw InputError(
        whole, "(file)",
        fmt::format("file is {:.1f} MiB", static_cast<double>(text.size()) / (1 << 20)),
        fmt::format("a scenario file of at most {} MiB", kMaxScenarioBytes >> 20));
  }
  // Binary garbage: report the first NUL byte with its position.
  if (const auto nul = text.find('\0'); nul != std::string::npos) {
    int line =
        1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(nul), '\n'));
    const auto bol = text.rfind('\n', nul);
    int col = static_cast<int>(nul - (bol == std::string::npos ? 0 : bol + 1)) + 1;
    throw InputError({file, line, col}, "(file)", "NUL byte in file: this is not a text file",
                     what.empty() ? "a UTF-8 TOML scenario" : "a UTF-8 " + what.substr(2));
  }
  bool blank = true;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      blank = false;
      break;
    }
  }
  if (blank) {
    throw InputError(whole, "(file)", "the file is empty",
                     what.empty() ? "a TOML scenario; see examples/ and docs/scenario.md"
                                  : what + "; see examples/ and docs/cohort.md");
  }
  toml::table doc;
  try {
    doc = toml::parse(std::string_view(text), std::string_view(file));
  } catch (const toml::parse_error& e) {
    std::string what(e.description());
    throw InputError(loc_from(e.source(), file), "toml", "syntax error: " + what, "valid TOML 1.0");
  }
  for (const Override& o : overrides) apply_override(doc, o);
  Table out("", SourceLoc{file, 1, 1});
  Validator v(file);
  v.table(doc, root, out);
  return out;
}

}  // namespace mnsim
