#include "io/sourced.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>

#include "io/data_file.hpp"

namespace mnsim::io {

namespace {
SourceLoc loc_of(const toml::source_region& r, const std::string& file) {
  return SourceLoc{file, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}
}  // namespace

const SourcedSpec& SourcedEntry::spec(const std::string& key) const {
  auto it = specs_.find(key);
  if (it == specs_.end())
    fail(key, "missing key", "add " + key + " = { value = ..., source = ... }");
  return it->second;
}

void SourcedEntry::fail(const std::string& key, const std::string& what,
                        const std::string& expected) const {
  auto it = specs_.find(key);
  throw InputError(it == specs_.end() ? loc_ : it->second.loc, id_ + "." + key, what, expected);
}

void SourcedEntry::add(const std::string& key, SourcedSpec s) {
  if (!specs_.count(key)) order_.push_back(key);
  specs_[key] = std::move(s);
}

double SourcedEntry::quantity(const std::string& key, Dim d) const {
  const SourcedSpec& s = spec(key);
  if (s.kind != SourcedSpec::Kind::Text) fail(key, "expected a quantity string", expected_units(d));
  const ParsedQuantity q = parse_quantity(s.text, d);
  if (!q.ok()) fail(key, q.error, expected_units(d));
  return q.si;
}

std::vector<double> SourcedEntry::quantities(const std::string& key, Dim d) const {
  const SourcedSpec& s = spec(key);
  if (s.kind != SourcedSpec::Kind::List) fail(key, "expected a list of quantity strings");
  std::vector<double> out;
  for (std::size_t i = 0; i < s.items.size(); ++i) {
    const ParsedQuantity q = parse_quantity(s.items[i], d);
    if (!q.ok()) throw InputError(s.item_locs[i], id_ + "." + key, q.error, expected_units(d));
    out.push_back(q.si);
  }
  return out;
}

long long SourcedEntry::integer(const std::string& key) const {
  const SourcedSpec& s = spec(key);
  if (s.kind != SourcedSpec::Kind::Integer) fail(key, "expected an integer value");
  return static_cast<long long>(s.number);
}

double SourcedEntry::number(const std::string& key) const {
  const SourcedSpec& s = spec(key);
  if (s.kind != SourcedSpec::Kind::Integer && s.kind != SourcedSpec::Kind::Number) {
    fail(key, "expected a number value");
  }
  return s.number;
}

const std::string& SourcedEntry::text(const std::string& key) const {
  const SourcedSpec& s = spec(key);
  if (s.kind != SourcedSpec::Kind::Text) fail(key, "expected a string value");
  return s.text;
}

namespace {
/// The entries of a parsed data file (every top-level table, in file order).
std::vector<SourcedEntry> entries_of(const DataFile& f) {
  const std::string& file = f.path();
  const toml::table& doc = f.root();
  std::vector<SourcedEntry> out;
  for (auto&& [k, node] : doc) {
    const std::string id(k.str());
    const toml::table* t = node.as_table();
    if (!t) {
      throw InputError(loc_of(node.source(), file), id, "top-level key is not a table",
                       "one [entry] table per item");
    }
    SourcedEntry entry(id, loc_of(node.source(), file));
    std::vector<std::pair<std::string, SourcedSpec>> specs;
    for (auto&& [sk, sn] : *t) {
      const std::string key(sk.str());
      const std::string path = id + "." + key;
      SourcedSpec s;
      s.loc = loc_of(sn.source(), file);
      const toml::node* v = &sn;
      if (const toml::table* it = sn.as_table()) {
        v = it->get("value");
        const toml::node* src = it->get("source");
        for (auto&& [ik, in] : *it) {
          if (ik.str() != "value" && ik.str() != "source") {
            throw InputError(loc_of(in.source(), file), path,
                             fmt::format("unknown field '{}'", ik.str()), "only value and source");
          }
        }
        if (!v) throw InputError(s.loc, path, "missing 'value'", "{ value = ..., source = ... }");
        if (!src || !src->is_string() || src->as_string()->get().empty()) {
          throw InputError(s.loc, path, "missing or empty 'source'",
                           "source = \"Author Year, Journal\" or \"assumed: reasoning\"");
        }
        s.source = src->as_string()->get();
      } else if (!sn.is_string()) {
        throw InputError(s.loc, path, "a parameter without its source",
                         "{ value = ..., source = \"Author Year, Journal\" }");
      }
      if (v->is_string()) {
        s.kind = SourcedSpec::Kind::Text;
        s.text = v->as_string()->get();
      } else if (v->is_integer()) {
        s.kind = SourcedSpec::Kind::Integer;
        s.number = static_cast<double>(v->as_integer()->get());
      } else if (v->is_floating_point()) {
        s.kind = SourcedSpec::Kind::Number;
        s.number = v->as_floating_point()->get();
      } else if (const toml::array* a = v->as_array()) {
        s.kind = SourcedSpec::Kind::List;
        for (const toml::node& item : *a) {
          if (!item.is_string()) {
            throw InputError(loc_of(item.source(), file), path, "list item is not a string",
                             "quantity strings such as \"1.5 mm\"");
          }
          s.items.push_back(item.as_string()->get());
          s.item_locs.push_back(loc_of(item.source(), file));
        }
        if (s.items.empty()) throw InputError(s.loc, path, "empty list", "at least one value");
      } else {
        throw InputError(loc_of(v->source(), file), path, "unsupported value type",
                         "a string, number or list of strings");
      }
      specs.emplace_back(key, std::move(s));
    }
    // toml++ iterates keys sorted; keep the file's order instead.
    std::stable_sort(specs.begin(), specs.end(), [](const auto& a, const auto& b) {
      return a.second.loc.line < b.second.loc.line ||
             (a.second.loc.line == b.second.loc.line && a.second.loc.col < b.second.loc.col);
    });
    for (auto& [key, spec] : specs) entry.add(key, std::move(spec));
    out.push_back(std::move(entry));
  }
  std::stable_sort(out.begin(), out.end(), [](const SourcedEntry& a, const SourcedEntry& b) {
    return a.loc().line < b.loc().line;
  });
  return out;
}

}  // namespace

std::vector<SourcedEntry> parse_sourced_text(const std::string& text, const std::string& file) {
  return entries_of(DataFile::from_text(text, file));
}

std::vector<SourcedEntry> read_sourced_file(const std::filesystem::path& path) {
  return entries_of(DataFile(path.string()));
}

}  // namespace mnsim::io
