#include "io/data_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

#include "core/schema.hpp"
#include "core/units.hpp"
#include "io/files.hpp"

namespace mnsim::io {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

const char* node_kind(const toml::node& n) {
  if (n.is_table()) return "a table";
  if (n.is_array()) return "an array";
  if (n.is_string()) return "a string";
  if (n.is_integer()) return "an integer";
  if (n.is_floating_point()) return "a float";
  if (n.is_boolean()) return "a boolean";
  return "a date or time";
}

}  // namespace

DataFile::DataFile(std::string path) : path_(std::move(path)) {
  parse(read_text_file(path_, 4u << 20, "a TOML data file"));
}

DataFile DataFile::from_text(const std::string& text, std::string path) {
  DataFile f;
  f.path_ = std::move(path);
  f.parse(text);
  return f;
}

void DataFile::parse(const std::string& text) {
  if (text.find('\0') != std::string::npos) {
    throw InputError({path_, 1, 1}, "(file)", "NUL byte in file: this is not a text file",
                     "a UTF-8 TOML data file");
  }
  try {
    root_ = toml::parse(std::string_view(text), std::string_view(path_));
  } catch (const toml::parse_error& e) {
    throw InputError(
        {path_, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column)},
        "toml", "syntax error: " + std::string(e.description()), "valid TOML 1.0");
  }
}

SourceLoc DataFile::loc(const toml::node& n) const {
  return {path_, static_cast<int>(n.source().begin.line),
          static_cast<int>(n.source().begin.column)};
}

void DataFile::fail(const toml::node& n, const std::string& key, const std::string& what,
                    const std::string& expected) const {
  throw InputError(loc(n), key, what, expected);
}

const toml::table& DataFile::table(const toml::table& t, const std::string& where,
                                   const std::string& key) const {
  const std::string full = where.empty() ? key : where + "." + key;
  const toml::node* n = t.get(key);
  if (!n) throw InputError(loc(t), full, "missing table", fmt::format("a [{}] table", full));
  if (!n->is_table()) fail(*n, full, fmt::format("expected a table, found {}", node_kind(*n)));
  return *n->as_table();
}

bool DataFile::optional_value(const toml::table& t, const std::string& where,
                              const std::string& key, Dim d, double lo, double hi,
                              DataValue& out) const {
  const std::string full = where.empty() ? key : where + "." + key;
  const toml::node* n = t.get(key);
  if (!n) return false;
  const std::string form =
      "{ value = \"<number> <unit>\", source = \"<citation or assumed: why>\" }";
  if (!n->is_table()) {
    fail(*n, full, fmt::format("expected an inline table, found {}", node_kind(*n)), form);
  }
  const toml::table& e = *n->as_table();
  check_keys(e, full, {"value", "source"});
  const toml::node* v = e.get("value");
  const toml::node* s = e.get("source");
  if (!v) fail(*n, full, "missing 'value'", form);
  if (!s)
    fail(*n, full, "missing 'source'", "a citation (author, year, journal) or \"assumed: ...\"");
  if (!v->is_string()) {
    fail(*v, full + ".value", fmt::format("expected a string with a unit, found {}", node_kind(*v)),
         expected_units(d));
  }
  if (!s->is_string()) {
    fail(*s, full + ".source", fmt::format("expected a string, found {}", node_kind(*s)),
         "a citation or \"assumed: ...\"");
  }
  DataValue dv;
  dv.text = v->as_string()->get();
  dv.source = s->as_string()->get();
  dv.loc = loc(*v);
  if (trim(dv.source).size() < 4) {
    fail(*s, full + ".source", "empty source",
         "a citation (author, year, journal) or \"assumed: ...\"");
  }
  const ParsedQuantity q = parse_quantity(dv.text, d);
  if (!q.ok()) fail(*v, full + ".value", q.error, expected_units(d));
  dv.si = q.si;
  if (dv.si < lo || dv.si > hi) {
    fail(*v, full + ".value", fmt::format("'{}' is out of range", dv.text),
         fmt::format("between {:g} and {:g} (SI)", lo, hi));
  }
  out = std::move(dv);
  return true;
}

DataValue DataFile::value(const toml::table& t, const std::string& where, const std::string& key,
                          Dim d, double lo, double hi) const {
  DataValue out;
  if (!optional_value(t, where, key, d, lo, hi, out)) {
    const std::string full = where.empty() ? key : where + "." + key;
    throw InputError(loc(t), full, "missing value", expected_units(d));
  }
  return out;
}

void DataFile::check_keys(const toml::table& t, const std::string& where,
                          const std::vector<std::string>& known) const {
  for (auto&& [k, node] : t) {
    const std::string name(k.str());
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    const std::string guess = schema::suggest(name, known);
    SourceLoc l{path_, static_cast<int>(k.source().begin.line),
                static_cast<int>(k.source().begin.column)};
    if (l.line == 0) l = loc(node);
    throw InputError(l, where.empty() ? name : where + "." + name,
                     fmt::format("unknown key '{}'", name),
                     guess.empty() ? "one of the documented keys (docs/skin.md)"
                                   : fmt::format("did you mean '{}'?", guess));
  }
}

}  // namespace mnsim::io
