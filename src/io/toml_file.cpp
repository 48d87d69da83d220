#include "io/toml_file.hpp"

#include "io/files.hpp"

namespace mnsim::io {

Table load_toml_file(const std::string& path, const schema::Key& root, const std::string& what) {
  return parse_scenario_text(read_text_file(path, kMaxScenarioBytes, what), path, root,
                             what == "a TOML scenario file" ? std::string() : what);
}

}  // namespace mnsim::io
