#include "core/settings.hpp"

#include <fmt/format.h>

namespace mnsim {

Settings::Settings(std::string section, SourceLoc loc) : t_(std::move(section), std::move(loc)) {}

Settings Settings::from_table(const Table& t) {
  Settings s(t.path(), t.loc());
  for (const auto& key : t.order()) {
    if (!t.has(key)) continue;  // a nested table
    s.t_.set(key, t.value(key));
  }
  return s;
}

void Settings::set_quantity(const std::string& key, double si, Dim dim, std::string text,
                            SourceLoc loc) {
  Value v;
  v.type = schema::Type::Quantity;
  v.dim = dim;
  v.num = si;
  v.text = fmt::format("\"{}\"", text);
  v.str = std::move(text);
  v.loc = std::move(loc);
  t_.set(key, std::move(v));
}

void Settings::set_integer(const std::string& key, long long n, SourceLoc loc) {
  Value v;
  v.type = schema::Type::Integer;
  v.num = static_cast<double>(n);
  v.text = fmt::format("{}", n);
  v.loc = std::move(loc);
  t_.set(key, std::move(v));
}

void Settings::set_text(const std::string& key, std::string text, SourceLoc loc) {
  Value v;
  v.type = schema::Type::String;
  v.text = fmt::format("\"{}\"", text);
  v.str = std::move(text);
  v.loc = std::move(loc);
  t_.set(key, std::move(v));
}

}  // namespace mnsim
