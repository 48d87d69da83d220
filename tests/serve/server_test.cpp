// `mnsim serve` over real HTTP on an ephemeral loopback port: the page and its options, requests
// checked by the planner's schema (bad JSON, unknown fields, the schema's own messages), the
// size limit, static paths that try to leave the page's files, a foreign Host, concurrent jobs
// kept apart, a full queue, a job that fails (its time limit) while the server goes on, the
// exports (printable page, a scenario the scenario schema accepts), height-map uploads (good PNG
// and CSV maps become a scar, in a plan and in the scenario export; bad ones are the readers'
// one-line messages), a flood of connections the server outlives.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/scenario.hpp"
#include "protocol/plan.hpp"
#include "run/scenario_schema.hpp"
#include "run/specs.hpp"
#include "serve/server.hpp"
#include "serve/task_queue.hpp"
#include "skin/tissue.hpp"
#include "support/files.hpp"
#include "support/png.hpp"

namespace {

using mnsim::serve::Server;
using mnsim::serve::ServerOptions;
using nlohmann::json;

/// A server on 127.0.0.1, any free port, serving from its own thread.
class Running {
 public:
  explicit Running(ServerOptions o = {}) {
    o.port = 0;
    o.threads = 2;
    server_ = std::make_unique<Server>(o);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~Running() {
    server_->stop();
    thread_.join();
  }
  int port() const { return port_; }
  const Server& server() const { return *server_; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    return c;
  }

 private:
  std::unique_ptr<Server> server_;
  int port_ = 0;
  std::thread thread_;
};

/// Sends `request` (with "Connection: close") as it is on a new connection; returns everything
/// the server answered.
std::string raw(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return {};
  }
  // The request asks the server to close the connection after its answer: read to the end.
  (void)!write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  close(fd);
  return out;
}

/// A quick consultation: the given protocol with few replicates.
json quick(const std::string& site = "medial_cheek", int age = 30) {
  return {
      {"mode", "protocol"},
      {"title", "quick"},
      {"patient", {{"site", site}, {"age", std::to_string(age) + " years"}}},
      {"inventory", {{"rolling", 2}, {"boxcar_shallow", 1}}},
      {"search", {{"replicates", 3}, {"posterior_draws", 3}, {"follow_up", "8 weeks"}}},
      {"start_date", "2027-01-04"},
      {"protocol",
       {{"device", {{"kind", "roller"}, {"model", "roller_192_mf8"}, {"needle_length", "1 mm"}}},
        {"technique", {{"passes", 4}}},
        {"sessions", 2},
        {"interval", "4 weeks"}}}};
}

/// Polls a job until it is done or failed (at most 120 s).
json wait(int port, const std::string& id) {
  httplib::Client c("127.0.0.1", port);
  for (int i = 0; i < 1200; ++i) {
    auto r = c.Get("/api/jobs/" + id);
    if (!r) return {};
    json j = json::parse(r->body);
    if (j["state"] == "done" || j["state"] == "failed") return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return {};
}

json post_body(int port, const std::string& body, int expect) {
  httplib::Client c("127.0.0.1", port);
  auto r = c.Post("/api/consult", body, "application/json");
  EXPECT_TRUE(r);
  if (!r) return {};
  EXPECT_EQ(r->status, expect) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  return json::parse(r->body);
}

TEST(Serve, PageAndOptions) {
  Running s;
  auto c = s.client();
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<form id=\"consult\""), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("script-src 'self'"),
            std::string::npos);
  for (const char* p : {"/app.js", "/app.css"}) {
    auto r = c.Get(p);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << p;
    EXPECT_FALSE(r->body.empty()) << p;
  }
  auto o = c.Get("/api/options");
  ASSERT_TRUE(o);
  const json j = json::parse(o->body);
  EXPECT_FALSE(j["sites"].empty());
  EXPECT_FALSE(j["devices"].empty());
  EXPECT_FALSE(j["inventory_classes"].empty());
}

TEST(Serve, BadJsonIsA400WithOneLine) {
  Running s;
  for (const std::string body : {"{not json", "", "[1, 2]", "\"text\"", "{\"patient\": "}) {
    const json j = post_body(s.port(), body, 400);
    const std::string e = j.value("error", "");
    EXPECT_EQ(e.rfind("request: -: ", 0), 0u) << body << " -> " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos);
  }
}

TEST(Serve, UnknownFieldsAreRefusedByTheSchema) {
  Running s;
  json b = quick();
  b["patient"]["colour"] = "red";
  json j = post_body(s.port(), b.dump(), 400);
  EXPECT_EQ(j["key"], "patient.colour") << j.dump();
  EXPECT_NE(j["error"].get<std::string>().find("patient.colour"), std::string::npos);
  b = quick();
  b["shell"] = "rm -rf /";
  j = post_body(s.port(), b.dump(), 400);
  EXPECT_EQ(j["key"], "shell") << j.dump();
  b = quick();
  b["patient"]["age"] = nullptr;
  j = post_body(s.port(), b.dump(), 400);
  EXPECT_EQ(j["key"], "patient.age") << j.dump();
  json deep = 1;
  for (int i = 0; i < 12; ++i) deep = json{{"a", deep}};
  j = post_body(s.port(), deep.dump(), 400);
  EXPECT_NE(j["error"].get<std::string>().find("nested too deeply"), std::string::npos);
}

TEST(Serve, FieldMessagesAreThePlannerSchemasOwn) {
  Running s;
  // The same value in a planner patient file: the same key, problem and expectation.
  const std::string toml = "[patient]\nage = \"300 years\"\n[inventory]\nrolling = 1\n";
  std::string want;
  try {
    (void)mnsim::parse_scenario_text(toml, "request", mnsim::protocol::plan_schema(),
                                     "a consultation request");
  } catch (const mnsim::InputError& e) {
    want = e.key() + ": " + e.problem();
  }
  ASSERT_FALSE(want.empty());
  json b = quick();
  b["patient"]["age"] = "300 years";
  json j = post_body(s.port(), b.dump(), 400);
  EXPECT_NE(j["error"].get<std::string>().find(want), std::string::npos)
      << j["error"] << " vs " << want;
  b = quick();
  b["patient"]["site"] = "../../etc/passwd";
  j = post_body(s.port(), b.dump(), 400);
  EXPECT_EQ(j["key"], "patient.site");
  b = quick();
  b["search"]["replicates"] = 1000;  // within the schema's range, over the server's bound
  j = post_body(s.port(), b.dump(), 400);
  EXPECT_EQ(j["key"], "search.replicates");
  b = quick();
  b.erase("inventory");
  j = post_body(s.port(), b.dump(), 400);
  EXPECT_EQ(j["key"], "scars");  // the patient has no scars
}

TEST(Serve, OversizeBodyIs413) {
  ServerOptions o;
  o.max_body_bytes = 4096;
  Running s(o);
  json b = quick();
  b["title"] = std::string(10000, 'x');
  httplib::Client c("127.0.0.1", s.port());
  auto r = c.Post("/api/consult", b.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("too large"), std::string::npos) << r->body;
  auto ok = c.Get("/api/options");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(Serve, StaticPathsNeverReachTheFileSystem) {
  Running s;
  for (const std::string path :
       {"/../../CMakeLists.txt", "/..%2f..%2fCMakeLists.txt", "/%2e%2e/%2e%2e/etc/passwd",
        "/app.js/../../../etc/passwd", "/web/index.html", "/index.html", "//etc/passwd",
        "/data/sites.toml", "/sites.toml", "/app.css%00.toml", "/api/jobs/../../etc/passwd",
        "/api/jobs/..%2f..%2fetc%2fpasswd/consultation.html"}) {
    const std::string r =
        raw(s.port(), "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    ASSERT_FALSE(r.empty()) << path;
    const std::string status = r.substr(0, r.find("\r\n"));
    EXPECT_TRUE(status.find(" 404 ") != std::string::npos ||
                status.find(" 400 ") != std::string::npos)
        << path << ": " << status;
    EXPECT_EQ(r.find("root:"), std::string::npos) << path;
    EXPECT_EQ(r.find("cmake_minimum_required"), std::string::npos) << path;
    EXPECT_EQ(r.find("[meta]"), std::string::npos) << path;
  }
  // And the server still answers.
  EXPECT_EQ(s.client().Get("/")->status, 200);
}

TEST(Serve, ForeignHostAndOriginAreRefused) {
  Running s;
  std::string r =
      raw(s.port(), "GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find(" 403 "), std::string::npos) << r.substr(0, 80);
  const std::string body = quick().dump();
  r = raw(s.port(), "POST /api/consult HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port()) +
                        "\r\nOrigin: http://evil.example\r\nContent-Type: application/json\r\n"
                        "Content-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  EXPECT_NE(r.find(" 403 "), std::string::npos) << r.substr(0, 80);
}

TEST(Serve, ConcurrentJobsAreKeptApart) {
  Running s;
  const std::vector<std::pair<std::string, int>> who = {
      {"medial_cheek", 25}, {"forehead", 40}, {"chin", 55}, {"medial_cheek", 70}};
  std::vector<std::future<json>> f;
  for (const auto& [site, age] : who) {
    f.push_back(std::async(std::launch::async, [&s, site, age] {
      const json j = post_body(s.port(), quick(site, age).dump(), 202);
      return wait(s.port(), j.value("job", ""));
    }));
  }
  std::vector<json> out;
  for (auto& x : f) out.push_back(x.get());
  for (std::size_t i = 0; i < who.size(); ++i) {
    ASSERT_EQ(out[i]["state"], "done") << out[i].dump();
    const json& p = out[i]["result"]["patient"];
    EXPECT_EQ(p["site"], who[i].first);
    EXPECT_DOUBLE_EQ(p["age_years"].get<double>(), who[i].second);
  }
  // The same request answers the same result (reproducible, whatever ran beside it).
  const json again =
      wait(s.port(), post_body(s.port(), quick("medial_cheek", 25).dump(), 202)["job"]);
  EXPECT_EQ(again["result"], out[0]["result"]);
}

TEST(Serve, AFullQueueAnswers503) {
  ServerOptions o;
  o.max_pending_jobs = 1;
  Running s(o);
  json slow = quick();
  slow["mode"] = "plan";
  slow.erase("protocol");
  slow["search"]["devices"] = {"roller_192_mf8"};
  slow["search"]["expand"] = 1;
  slow["search"]["sessions_max"] = 2;
  const json first = post_body(s.port(), slow.dump(), 202);
  const json busy = post_body(s.port(), quick().dump(), 503);
  EXPECT_NE(busy["error"].get<std::string>().find("busy"), std::string::npos);
  EXPECT_EQ(wait(s.port(), first["job"])["state"], "done");
}

TEST(Serve, AFailingJobLeavesTheServerRunning) {
  ServerOptions o;
  o.job_time_limit = 0.001;
  Running s(o);
  json b = quick();
  b["search"]["replicates"] = 50;
  const json j = wait(s.port(), post_body(s.port(), b.dump(), 202)["job"]);
  EXPECT_EQ(j["state"], "failed");
  EXPECT_NE(j["error"].get<std::string>().find("limit"), std::string::npos) << j.dump();
  auto c = s.client();
  EXPECT_EQ(c.Get("/api/options")->status, 200);
  EXPECT_EQ(c.Get("/api/jobs/" + j["job"].get<std::string>() + "/consultation.html")->status, 409);
  EXPECT_EQ(c.Get("/api/jobs/0123456789abcdef0123456789abcdef")->status, 404);
}

TEST(Serve, ExportsThePrintablePageAndAScenario) {
  Running s;
  const json j = wait(s.port(), post_body(s.port(), quick().dump(), 202)["job"]);
  ASSERT_EQ(j["state"], "done") << j.dump();
  const json& r = j["result"];
  EXPECT_FALSE(r["summary"].get<std::string>().empty());
  EXPECT_FALSE(r["disclaimer"].get<std::string>().empty());
  EXPECT_EQ(r["calendar"].size(), 3u);  // two sessions and the outcome
  EXPECT_EQ(r["calendar"][1]["date"], "2027-02-01");
  EXPECT_FALSE(r["safety"].empty());
  EXPECT_FALSE(r["course"].empty());
  EXPECT_EQ(r["scars"].size(), 3u);
  // Both bands, kept apart: patient variability (band_*) and parameter uncertainty.
  EXPECT_TRUE(r["bands"]["posterior"].get<bool>());
  EXPECT_EQ(r["bands"]["posterior_draws"], 3);
  EXPECT_LE(r["shown"]["parameter_band_p10"].get<double>(),
            r["shown"]["parameter_band_p90"].get<double>());
  for (const auto& pt : r["course"]) {  // both bands over the predicted course
    for (const char* k : {"parameter_band", "variability_band"}) {
      EXPECT_LE(pt[k]["p10"].get<double>(), pt[k]["p90"].get<double>()) << k;
    }
  }
  auto c = s.client();
  auto html = c.Get(j["consultation_html"].get<std::string>());
  ASSERT_TRUE(html);
  EXPECT_EQ(html->status, 200);
  EXPECT_NE(html->body.find("<html"), std::string::npos);
  auto toml = c.Get(j["scenario_toml"].get<std::string>());
  ASSERT_TRUE(toml);
  ASSERT_EQ(toml->status, 200);
  // A scenario `mnsim run` reads: the scenario schema accepts it.
  EXPECT_NO_THROW((void)mnsim::parse_scenario_text(toml->body, "export", mnsim::scenario_schema()))
      << toml->body;
  EXPECT_NE(toml->body.find("start_date = 2027-01-04"), std::string::npos);
}

TEST(Serve, PlanForMeRanksProtocols) {
  Running s;
  json b = quick();
  b["mode"] = "plan";
  b.erase("protocol");
  b["search"]["devices"] = {"roller_192_mf8"};
  b["search"]["expand"] = 2;
  b["search"]["sessions_max"] = 2;
  const json j = wait(s.port(), post_body(s.port(), b.dump(), 202)["job"]);
  ASSERT_EQ(j["state"], "done") << j.dump();
  const json& r = j["result"];
  ASSERT_FALSE(r["ranked"].empty());
  EXPECT_GT(r["search"]["searched"].get<int>(), 1);
  for (const auto& e : r["ranked"]) {
    EXPECT_LE(e["band_p10"].get<double>(), e["band_p90"].get<double>());
    EXPECT_TRUE(e["feasible"].get<bool>());
  }
}

/// A 16-bit grayscale height map: `side` x `side` pixels at 5000, a square pit of side / 3
/// pixels in the middle at 2000 (3000 levels deep).
std::string pit_png(int side = 60) {
  std::vector<unsigned> v(static_cast<std::size_t>(side * side), 5000);
  for (int r = side / 3; r < 2 * side / 3; ++r)
    for (int c = side / 3; c < 2 * side / 3; ++c) v[static_cast<std::size_t>(r * side + c)] = 2000;
  return mnsim::test::png_bytes(side, side, 16, PNG_COLOR_TYPE_GRAY, v);
}

/// The quick consultation with a height map: 50 um pixels, 0.1 um per level (a pit 0.3 mm deep).
json with_surface(json b) {
  b["surface"] = {{"pixel_size", "50 um"}, {"height_scale", "0.1 um"}};
  return b;
}

/// POST /api/consult as a multipart form: the JSON ("request") and a file ("heightmap").
httplib::Result post_map(int port, const std::string& request, const std::string& map,
                         const std::string& filename) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30, 0);
  httplib::MultipartFormDataItems items = {
      {"request", request, "", "application/json"},
      {"heightmap", map, filename, "application/octet-stream"}};
  return c.Post("/api/consult", items);
}

TEST(Serve, AnUploadedHeightMapIsTheFirstScar) {
  Running s;
  const std::string png = pit_png();
  auto r = post_map(s.port(), with_surface(quick()).dump(), png, "my scan.PNG");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  const json j = wait(s.port(), json::parse(r->body)["job"]);
  ASSERT_EQ(j["state"], "done") << j.dump();
  const json& res = j["result"];
  EXPECT_EQ(res["patient"]["scars"], 4);  // the map and the 3 scars by count
  ASSERT_EQ(res["scars"][0]["kind"], "measured");
  EXPECT_NEAR(res["scars"][0]["depth_before_um"].get<double>(), 300.0, 1e-6);
  EXPECT_NEAR(res["scars"][0]["width_mm"].get<double>(), 3.0, 1e-9);  // the map's larger side
  EXPECT_LT(res["scars"][0]["depth_after_um"].get<double>(), 300.0);
  EXPECT_TRUE(res["heightmap_available"].get<bool>());

  // The scenario export names the map beside it; the map comes back as it was sent; together
  // they are a scenario whose patch has the pit (the scenario's own height-map import).
  auto c = s.client();
  auto page = c.Get(j["consultation_html"].get<std::string>());
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("1 measured scar (a surface from a height map)"), std::string::npos);
  auto toml = c.Get(j["scenario_toml"].get<std::string>());
  ASSERT_TRUE(toml);
  ASSERT_EQ(toml->status, 200);
  EXPECT_NE(toml->body.find("[surface]\nfile = \"consultation_heightmap.png\"\npixel_size = "
                            "\"50 um\"\nheight_scale = \"0.1 um\""),
            std::string::npos)
      << toml->body;
  EXPECT_NE(toml->body.find("width = \"3 mm\""), std::string::npos) << toml->body;
  EXPECT_EQ(toml->body.find("[[lesions]]"), std::string::npos) << toml->body;
  ASSERT_EQ(j["heightmap_file"],
            "/api/jobs/" + j["job"].get<std::string>() + "/consultation_heightmap.png");
  auto map = c.Get(j["heightmap_file"].get<std::string>());
  ASSERT_TRUE(map);
  ASSERT_EQ(map->status, 200);
  EXPECT_EQ(map->body, png);
  EXPECT_EQ(
      c.Get("/api/jobs/" + j["job"].get<std::string>() + "/consultation_heightmap.csv")->status,
      404);
  const auto dir = std::filesystem::temp_directory_path() / "mnsim_serve_heightmap_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "scenario.toml") << toml->body;
  std::ofstream(dir / "consultation_heightmap.png", std::ios::binary) << map->body;
  const mnsim::Table sc = mnsim::load_scenario((dir / "scenario.toml").string());
  const mnsim::skin::Tissue t = mnsim::skin::build_tissue(mnsim::read_patch_spec(sc));
  int outside = 0;
  const auto& g = t.grid();
  for (int k = 0; k < g.nz; ++k)
    for (int jj = 0; jj < g.ny; ++jj)
      for (int i = 0; i < g.nx; ++i) outside += t.layer(i, jj, k) == mnsim::skin::Layer::Outside;
  EXPECT_GT(outside, 0);  // the pit is in the patch
  std::filesystem::remove_all(dir);
}

TEST(Serve, PlanForMeUsesAnUploadedCsvMap) {
  Running s;
  // The same pit as CSV text (values in 0.1 um), by name; a client path is only a name.
  std::string csv;
  for (int r = 0; r < 12; ++r) {
    for (int c = 0; c < 12; ++c) {
      if (c > 0) csv += ',';
      csv += r / 4 == 1 && c / 4 == 1 ? "2000" : "5000";
    }
    csv += '\n';
  }
  json b = with_surface(quick());
  b["surface"]["pixel_size"] = "250 um";
  b["mode"] = "plan";
  b.erase("protocol");
  b.erase("inventory");  // the map is the only scar
  b["search"]["devices"] = {"roller_192_mf8"};
  b["search"]["expand"] = 1;
  b["search"]["sessions_max"] = 2;
  auto r = post_map(s.port(), b.dump(), csv, "../../mnsim_serve_evil.csv");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  const json j = wait(s.port(), json::parse(r->body)["job"]);
  ASSERT_EQ(j["state"], "done") << j.dump();
  EXPECT_EQ(j["result"]["patient"]["scars"], 1);
  EXPECT_EQ(j["result"]["scars"][0]["kind"], "measured");
  EXPECT_FALSE(j["result"]["ranked"].empty());
  EXPECT_EQ(j["heightmap_file"],
            "/api/jobs/" + j["job"].get<std::string>() + "/consultation_heightmap.csv");
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::temp_directory_path() / ".." /
                                       "mnsim_serve_evil.csv"));
}

TEST(Serve, BadHeightMapsAreTheReadersOneLineMessages) {
  ServerOptions o;
  o.max_upload_bytes = 64 * 1024;
  o.limits.max_map_pixels = 100 * 100;
  Running s(o);
  const std::string request = with_surface(quick()).dump();
  // Each bad map: the status, the message's start (the readers' words, at file:line:col) and key.
  auto refused = [&](const std::string& map, const std::string& name, int status,
                     const std::string& error, const std::string& key,
                     const std::string& body = {}) {
    auto r = post_map(s.port(), body.empty() ? request : body, map, name);
    ASSERT_TRUE(r) << name;
    ASSERT_EQ(r->status, status) << name << ": " << r->body;
    const json j = json::parse(r->body);
    const std::string e = j["error"];
    EXPECT_NE(e.find(error), std::string::npos) << name << ": " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    EXPECT_EQ(j["key"], key) << name;
  };
  const std::string png = pit_png();
  refused(png.substr(0, png.size() / 2), "scan.png", 400,
          "uploaded height map:1:1: heightmap: corrupt PNG", "heightmap");
  refused(mnsim::test::png_bytes(8, 8, 8, PNG_COLOR_TYPE_GRAY, std::vector<unsigned>(64, 3)),
          "scan.png", 400,
          "uploaded height map:1:1: heightmap: PNG is 8-bit grayscale (a 16-bit grayscale PNG "
          "height map)",
          "heightmap");
  refused("1, 2, 3\n4, five, 6\n", "scan.csv", 400,
          "uploaded height map:2:4: heightmap: 'five' is not a number", "heightmap");
  refused("\x01\x02garbage", "scan", 400, "uploaded height map:1:1: heightmap: '", "heightmap");
  refused("", "scan.csv", 400, "heightmap: the file is empty", "heightmap");
  refused(pit_png(120), "big.png", 400, "PNG is 120 x 120 pixels (at least 2 x 2 and at most 10000",
          "heightmap");
  refused(std::string(70 * 1024, '1'), "huge.csv", 413, "the height map is too large", "");
  // The map's scale: needed with a map, refused without; a flat map; relief deeper than the skin.
  refused(png, "scan.png", 400, "surface.pixel_size: is needed", "surface.pixel_size",
          quick().dump());
  json deep = with_surface(quick());
  deep["surface"]["height_scale"] = "1 um";  // 3 mm deep
  refused(png, "scan.png", 400, "deeper than the skin", "surface.height_scale", deep.dump());
  refused(mnsim::test::png_bytes(4, 4, 16, PNG_COLOR_TYPE_GRAY, std::vector<unsigned>(16, 9)),
          "flat.png", 400, "no deeper than the 0.05 mm taken as skin texture",
          "surface.height_scale");
  EXPECT_EQ(post_body(s.port(), with_surface(quick()).dump(), 400)["key"], "surface");
  // A part the form does not have.
  httplib::Client c("127.0.0.1", s.port());
  auto r = c.Post("/api/consult", httplib::MultipartFormDataItems{{"request", request, "", ""},
                                                                  {"path", "/etc/passwd", "", ""}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  // And the server goes on.
  EXPECT_EQ(s.client().Get("/api/options")->status, 200);
}

TEST(Serve, AFloodOfConnectionsDoesNotTakeItDown) {
  ServerOptions o;
  o.io_timeout_s = 2;
  o.keep_alive_s = 1;
  Running s(o);
  // Connections opened and left idle, half-sent requests, garbage: more than the threads and
  // the queue hold (non-blocking connects: those the kernel's backlog cannot take wait there).
  std::vector<int> fds;
  auto open_one = [&](const std::string& send) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(s.port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    if (!send.empty()) (void)!write(fd, send.data(), send.size());
    fds.push_back(fd);
  };
  for (int i = 0; i < 200; ++i) {
    open_one(i % 4 == 0   ? "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
             : i % 4 == 1 ? "\x16\x03\x01garbage\r\n\r\n"
                          : "");
  }
  // A request during the flood is answered (after the connections ahead of it).
  httplib::Client c("127.0.0.1", s.port());
  c.set_connection_timeout(120, 0);
  c.set_read_timeout(120, 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto during = c.Get("/api/options");
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(during) << httplib::to_string(during.error());
  EXPECT_EQ(during->status, 200);
  std::printf("a request during a flood of 200 connections was answered in %.1f s\n", waited);
  for (int fd : fds) close(fd);
  // And after it, at once.
  EXPECT_EQ(s.client().Get("/api/options")->status, 200);
  EXPECT_EQ(post_body(s.port(), "{", 400)["key"], "");
}

TEST(Serve, AClientThatTricklesBytesIsCutOffAtTheConnectionLimit) {
  // A byte every 0.5 s never trips the 5 s read timeout, so only the connection limit ends it.
  ServerOptions o;
  o.connection_limit_s = 2;
  Running s(o);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(s.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string head = "GET /api/options HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  (void)!write(fd, head.data(), head.size());
  const auto t0 = std::chrono::steady_clock::now();
  double cut = -1;
  for (int i = 0; i < 40; ++i) {  // at most 20 s
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    // Writing to a connection the server has shut down fails (EPIPE, or ECONNRESET after the
    // first write meets the closed socket); MSG_NOSIGNAL keeps SIGPIPE away.
    if (send(fd, "a", 1, MSG_NOSIGNAL) != 1) {
      cut = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      break;
    }
  }
  close(fd);
  ASSERT_GE(cut, 0) << "the trickling connection was still open after 20 s";
  // Limit 2 s, looked at every 0.5 s; the write that notices comes up to 1 s later.
  EXPECT_GE(cut, 1.5);
  EXPECT_LE(cut, 5.0);
  EXPECT_EQ(s.server().connections_reaped(), 1u);
  std::printf("a client sending a byte every 0.5 s was cut off after %.1f s\n", cut);
  // Ordinary requests go on, and are not cut off.
  EXPECT_EQ(s.client().Get("/api/options")->status, 200);
  EXPECT_EQ(s.server().connections_reaped(), 1u);
}

TEST(Serve, TheConnectionQueueIsBounded) {
  // One thread, at most 2 waiting: with the thread busy and 2 waiting, a fourth waits for room.
  mnsim::serve::BoundedPool pool(1, 2);
  std::promise<void> started, release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> ran{0};
  pool.enqueue([&] {
    started.set_value();
    gate.wait();
    ++ran;
  });
  started.get_future().wait();
  for (int i = 0; i < 2; ++i) pool.enqueue([&] { ++ran; });
  auto fourth = std::async(std::launch::async, [&] { pool.enqueue([&] { ++ran; }); });
  EXPECT_EQ(fourth.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  release.set_value();
  fourth.get();
  pool.shutdown();
  EXPECT_EQ(ran.load(), 4);
}

}  // namespace
