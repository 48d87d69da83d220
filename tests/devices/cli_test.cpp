// `mnsim punctures` and `mnsim catalog devices` through the real binary.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Output {
  int code = -1;
  std::string text;
};

Output sh(const std::string& cmd) {
  Output o;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return o;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) o.text += buf;
  const int status = pclose(p);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

fs::path temp_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("mnsim_devices_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string read(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(Cli, PuncturesWritesPuncturesDensityAndStats) {
  const fs::path d = temp_dir("ok");
  std::ofstream(d / "s.toml") << "seed = 3\n[device]\nmodel = \"roller_192_mf8\"\n"
                                 "needle_length = \"0.5 mm\"\n[technique]\npasses = 15\n"
                                 "[tissue]\nwidth = \"2 cm\"\nlength = \"2 cm\"\n";
  const Output o = sh(std::string(MNSIM_BINARY) + " punctures " + (d / "s.toml").string() +
                      " --out " + (d / "out").string());
  ASSERT_EQ(o.code, 0) << o.text;
  const auto j = nlohmann::json::parse(read(d / "out" / "punctures.json"));
  // 2 cm x 2 cm patch: about 960 punctures, so a few percent of sampling noise.
  const double mean = j["density_per_cm2"]["mean"].get<double>();
  EXPECT_NEAR(mean, j["density_per_cm2"]["expected_mean"].get<double>(), 0.08 * mean);
  EXPECT_EQ(j["run"]["seed"].get<int>(), 3);
  const std::string csv = read(d / "out" / "punctures.csv");
  EXPECT_EQ(static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')),
            j["punctures"].get<std::size_t>() + 1);
  const std::string dens = read(d / "out" / "density.csv");
  EXPECT_EQ(std::count(dens.begin(), dens.end(), '\n'), 2 + 20);  // comment, header, 20 rows
  EXPECT_TRUE(fs::exists(d / "out" / "scenario.resolved.toml"));
  // --seed changes the punctures; the same seed reproduces them byte for byte.
  const Output again = sh(std::string(MNSIM_BINARY) + " punctures " + (d / "s.toml").string() +
                          " --out " + (d / "out2").string());
  ASSERT_EQ(again.code, 0) << again.text;
  EXPECT_EQ(read(d / "out2" / "punctures.csv"), csv);
  const Output other = sh(std::string(MNSIM_BINARY) + " punctures " + (d / "s.toml").string() +
                          " --seed 4 --out " + (d / "out3").string());
  ASSERT_EQ(other.code, 0) << other.text;
  EXPECT_NE(read(d / "out3" / "punctures.csv"), csv);
  fs::remove_all(d);
}

// `mnsim punctures` shows the punctures of session 1 of `mnsim run` with the same scenario and
// seed (each session's device stage has its own named random stream; before, the two drew other
// punctures: 87 against 105 on example 04).
TEST(Cli, PuncturesAreThoseOfSessionOneOfRun) {
  const fs::path d = temp_dir("session1");
  std::ofstream(d / "s.toml") << "seed = 7\n[tissue]\nwidth = \"2 mm\"\nlength = \"2 mm\"\n"
                                 "resolution = \"200 um\"\n"
                                 "[device]\nkind = \"pen\"\nmodel = \"dermapen_2012\"\n"
                                 "depth = \"0.5 mm\"\n[technique]\npasses = 2\n"
                                 "[course]\nsessions = 2\ninterval = \"1 day\"\n"
                                 "follow_up = \"1 day\"\n";
  const std::string bin = MNSIM_BINARY;
  Output o = sh(bin + " punctures " + (d / "s.toml").string() + " --out " + (d / "p").string());
  ASSERT_EQ(o.code, 0) << o.text;
  o = sh(bin + " run " + (d / "s.toml").string() + " --quiet --out " + (d / "r").string());
  ASSERT_EQ(o.code, 0) << o.text;
  const std::string alone = read(d / "p" / "punctures.csv");
  // The run's CSV has the session number in front; its session-1 rows are the punctures.
  std::istringstream run(read(d / "r" / "punctures.csv"));
  std::string line, session1, session2;
  std::getline(run, line);
  session1 = line.substr(line.find(',') + 1) + "\n";
  while (std::getline(run, line)) {
    const std::string rest = line.substr(line.find(',') + 1) + "\n";
    (line.rfind("1,", 0) == 0 ? session1 : session2) += rest;
  }
  EXPECT_GT(std::count(alone.begin(), alone.end(), '\n'), 10);
  EXPECT_EQ(session1, alone);
  EXPECT_FALSE(session2.empty());
  EXPECT_NE(session2, session1.substr(session1.find('\n') + 1));  // session 2 draws its own
  fs::remove_all(d);
}

TEST(Cli, BadDeviceKeyIsOneLineWithItsPosition) {
  const fs::path d = temp_dir("bad");
  std::ofstream(d / "s.toml") << "[device]\nkind = \"pen\"\nmodel = \"dermapen_2012\"\n"
                                 "depth = \"3 mm\"\n";
  const Output o = sh(std::string(MNSIM_BINARY) + " punctures " + (d / "s.toml").string() +
                      " --out " + (d / "out").string());
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.text.find("s.toml:4:9: device.depth:"), std::string::npos) << o.text;
  EXPECT_EQ(std::count(o.text.begin(), o.text.end(), '\n'), 1) << o.text;
  fs::remove_all(d);
}

TEST(Cli, CatalogListsDevices) {
  const Output o = sh(std::string(MNSIM_BINARY) + " catalog devices");
  ASSERT_EQ(o.code, 0);
  for (const char* id : {"roller_192_mf8", "roller_192_fernandes", "dermapen_2012", "dermapen_12",
                         "skinpen_precision", "pen_36", "stamp_35"}) {
    EXPECT_NE(o.text.find(id), std::string::npos) << id;
  }
}

}  // namespace
