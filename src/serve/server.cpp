#include "serve/server.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/data_dir.hpp"
#include "core/error.hpp"
#include "devices/catalog.hpp"
#include "devices/registry.hpp"
#include "io/files.hpp"
#include "lesions/registry.hpp"
#include "serve/connection_reaper.hpp"
#include "serve/task_queue.hpp"
#include "skin/atlas.hpp"

namespace mnsim::serve {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::ordered_json;

/// The page's files: the only files the server reads, once, at start.
struct WebFile {
  const char* route;
  const char* name;
  const char* mime;
};
// Routes are regular expressions matched against the whole path.
constexpr WebFile kWebFiles[] = {{"/", "index.html", "text/html; charset=utf-8"},
                                 {"/app\\.css", "app.css", "text/css; charset=utf-8"},
                                 {"/app\\.js", "app.js", "text/javascript; charset=utf-8"}};

// The page loads its own script and style only; the printable page has inline style, no script.
constexpr const char* kPageCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";
constexpr const char* kPrintCsp =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

struct Job {
  std::string id;
  Consultation request;
  StopToken stop;
  std::mutex mu;                 // guards everything below
  std::string state = "queued";  // queued, running, done, failed
  std::string stage;
  int stage_index = -1;
  double done = 0, total = 0;
  std::string error;
  bool timed_out = false;
  ConsultResult result;
  Clock::time_point created = Clock::now(), started{}, finished{};
};

/// A job's progress, from the planner's stages; asks the job to stop past its deadline.
class JobProgress final : public Progress {
 public:
  JobProgress(Job& job, Clock::time_point deadline) : job_(job), deadline_(deadline) {}
  void stage(std::string_view name) override {
    std::lock_guard lock(job_.mu);
    job_.stage = std::string(name);
    ++job_.stage_index;
    job_.done = 0;
    job_.total = 0;
  }
  void advance(double done, double total) override {
    {
      std::lock_guard lock(job_.mu);
      job_.done = done;
      job_.total = total;
    }
    if (Clock::now() > deadline_ && job_.stop.requested() == 0) {
      {
        std::lock_guard lock(job_.mu);
        job_.timed_out = true;
      }
      job_.stop.request(SIGALRM);
    }
  }
  void note(std::string_view) override {}

 private:
  Job& job_;
  Clock::time_point deadline_;
};

std::string new_job_id() {
  static std::mutex mu;
  static std::random_device rd;
  std::lock_guard lock(mu);
  std::string id;
  for (int i = 0; i < 4; ++i) id += fmt::format("{:08x}", static_cast<std::uint32_t>(rd()));
  return id;
}

void send_json(httplib::Response& res, int status, const ordered_json& j) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(j.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message,
                const std::string& key = {}) {
  send_json(res, status, {{"error", printable(message)}, {"key", key}});
}

bool loopback_name(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]";
}

/// The host name of a Host header ("127.0.0.1:8080" -> "127.0.0.1", "[::1]:80" -> "[::1]").
std::string host_name(const std::string& header) {
  if (!header.empty() && header.front() == '[') {
    const auto end = header.find(']');
    return end == std::string::npos ? header : header.substr(0, end + 1);
  }
  return header.substr(0, header.find(':'));
}

/// The form's choices, from the same schema and catalogs the request is checked against.
ordered_json options_json() {
  ordered_json j;
  const auto& root = consult_schema();
  auto child = [](const schema::Key& k, const std::string& name) -> const schema::Key& {
    for (const auto& c : k.children) {
      if (c.name == name) return c;
    }
    throw std::logic_error("consult schema has no key " + name);
  };
  const auto& patient = child(root, "patient");
  ordered_json sites = ordered_json::array();
  for (const auto& s : skin::default_atlas().sites()) {
    sites.push_back({{"key", s.key}, {"name", s.name}});
  }
  j["sites"] = sites;
  j["sexes"] = child(patient, "sex").choices;
  const auto& age = child(patient, "age");
  j["age_years"] = {{"min", age.min.value_or(0) / kYear}, {"max", age.max.value_or(0) / kYear}};
  j["scar_kinds"] = lesions::plan_scar_kinds();
  j["inventory_classes"] = lesions::inventory_classes();
  ordered_json devs = ordered_json::array();
  const auto& catalog = devices::DeviceCatalog::defaults();
  for (const auto& entry : catalog.entries()) {
    const std::string kind = entry.text("kind");
    const devices::DeviceKind* k = devices::find_device_kind(kind);
    if (!k) continue;
    ordered_json settings = ordered_json::array();
    std::string key;
    for (const Settings& set : devices::search_settings(entry)) {
      if (set.has("depth")) {
        key = "depth";
      } else if (set.has("needle_length")) {
        key = "needle_length";
      } else {
        continue;
      }
      settings.push_back(set.quantity(key) / kMm);
    }
    devs.push_back({{"model", entry.id()},
                    {"kind", kind},
                    {"setting", key.empty() ? ordered_json() : ordered_json(key)},
                    {"settings_mm", settings},
                    {"passes", k->search_passes}});
  }
  j["devices"] = devs;
  j["limits"] = {{"replicates", ConsultLimits{}.max_replicates}};
  return j;
}

}  // namespace

struct Server::Impl {
  ServerOptions opt;
  std::map<std::string, std::pair<std::string, const char*>> files;  // route -> content, mime
  protocol::ReducedModel model;
  std::string options;
  httplib::Server http;

  std::mutex mu;  // guards the jobs, the queue and stopping
  std::condition_variable cv;
  std::map<std::string, std::shared_ptr<Job>> jobs;
  std::deque<std::shared_ptr<Job>> queue;
  std::deque<std::string> finished;  // ids, oldest first
  int running = 0;
  bool stopping = false;
  std::thread worker;
  std::unique_ptr<ConnectionReaper> reaper;  // from bind(), when the port is known

  void work() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) return;
        job = queue.front();
        queue.pop_front();
        ++running;
      }
      run_job(*job);
      std::lock_guard lock(mu);
      --running;
      finished.push_back(job->id);
      while (finished.size() > static_cast<std::size_t>(std::max(1, opt.kept_jobs))) {
        jobs.erase(finished.front());
        finished.pop_front();
      }
    }
  }

  void run_job(Job& job) {
    {
      std::lock_guard lock(job.mu);
      job.state = "running";
      job.started = Clock::now();
    }
    const auto deadline = job.started + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(opt.job_time_limit));
    JobProgress progress(job, deadline);
    std::string error;
    ConsultResult result;
    try {
      result = run_consultation(model, job.request, opt.threads, &progress, &job.stop);
    } catch (const Interrupted&) {
      std::lock_guard lock(job.mu);
      error = job.timed_out ? fmt::format(
                                  "the consultation took longer than this server's limit "
                                  "of {:g} s and was stopped",
                                  opt.job_time_limit)
                            : "the consultation was stopped: the server is shutting down";
    } catch (const InputError& e) {
      error = e.line();
    } catch (const std::exception& e) {
      error = fmt::format("internal error: {}", e.what());
    } catch (...) {
      error = "internal error";
    }
    std::lock_guard lock(job.mu);
    job.finished = Clock::now();
    if (error.empty()) {
      job.state = "done";
      job.result = std::move(result);
    } else {
      job.state = "failed";
      job.error = printable(error);
    }
  }

  std::shared_ptr<Job> find(const std::string& id) {
    std::lock_guard lock(mu);
    const auto it = jobs.find(id);
    return it == jobs.end() ? nullptr : it->second;
  }

  void too_large(httplib::Response& res, const std::string& what, std::size_t size,
                 std::size_t max) {
    send_error(res, 413,
               fmt::format("request: -: {} is too large ({} bytes; at most {})", what, size, max));
  }

  void consult(const httplib::Request& req, httplib::Response& res) {
    // A JSON body, or a multipart form of the JSON ("request") and a height map ("heightmap").
    std::string body;
    HeightMapUpload upload;
    bool with_map = false;
    if (req.is_multipart_form_data()) {
      for (const auto& [name, part] : req.files) {
        if (name != "request" && name != "heightmap") {
          send_error(res, 400,
                     fmt::format("request: -: unknown part '{}' of the form", printable(name)),
                     "request");
          return;
        }
      }
      if (!req.has_file("request")) {
        send_error(res, 400, "request: -: the form has no 'request' part (the JSON request)");
        return;
      }
      body = req.get_file_value("request").content;
      if (req.has_file("heightmap")) {
        auto f = req.get_file_value("heightmap");
        upload = {std::move(f.content), std::move(f.filename)};
        with_map = true;
        if (upload.bytes.size() > opt.max_upload_bytes) {
          too_large(res, "the height map", upload.bytes.size(), opt.max_upload_bytes);
          return;
        }
      }
    } else {
      body = req.body;
    }
    if (body.size() > opt.max_body_bytes) {
      too_large(res, "the request", body.size(), opt.max_body_bytes);
      return;
    }
    Consultation c;
    try {
      c = read_consultation(body, opt.limits, with_map ? &upload : nullptr);
    } catch (const InputError& e) {
      send_error(res, 400, e.line(), e.key());
      return;
    }
    auto job = std::make_shared<Job>();
    job->id = new_job_id();
    job->request = std::move(c);
    {
      std::lock_guard lock(mu);
      if (stopping) {
        send_error(res, 503, "the server is shutting down");
        return;
      }
      const int pending = static_cast<int>(queue.size()) + running;
      if (pending >= opt.max_pending_jobs) {
        res.set_header("Retry-After", "10");
        send_error(res, 503,
                   fmt::format("the server is busy: {} consultations are waiting or running "
                               "(at most {}); try again shortly",
                               pending, opt.max_pending_jobs));
        return;
      }
      jobs[job->id] = job;
      queue.push_back(job);
    }
    cv.notify_one();
    send_json(res, 202, {{"job", job->id}, {"progress", "/api/jobs/" + job->id}});
  }

  void status(const std::string& id, httplib::Response& res) {
    const auto job = find(id);
    if (!job) {
      send_error(
          res, 404,
          fmt::format("no such consultation (this server keeps the last {})", opt.kept_jobs));
      return;
    }
    std::lock_guard lock(job->mu);
    const int stages = job->request.mode == "plan" ? 3 : 1;
    double fraction = 0;
    if (job->state == "done") {
      fraction = 1;
    } else if (job->stage_index >= 0) {
      const double within = job->total > 0 ? job->done / job->total : 0;
      fraction = std::min(1.0, (job->stage_index + within) / stages);
    }
    const auto end = job->state == "done" || job->state == "failed" ? job->finished : Clock::now();
    const double elapsed =
        job->state == "queued" ? 0 : std::chrono::duration<double>(end - job->started).count();
    ordered_json j = {{"job", job->id},      {"state", job->state}, {"stage", job->stage},
                      {"done", job->done},   {"total", job->total}, {"fraction", fraction},
                      {"elapsed_s", elapsed}};
    if (job->state == "failed") j["error"] = job->error;
    if (job->state == "done") {
      j["result"] = ordered_json::parse(job->result.json);
      j["consultation_html"] = "/api/jobs/" + job->id + "/consultation.html";
      if (!job->result.scenario.empty()) {
        j["scenario_toml"] = "/api/jobs/" + job->id + "/scenario.toml";
      }
      if (job->result.heightmap) {
        j["heightmap_file"] = "/api/jobs/" + job->id + "/" + job->request.surface.file;
      }
    }
    send_json(res, 200, j);
  }

  enum class Export { Html, Scenario, HeightMap };

  void export_file(const std::string& id, Export what, httplib::Response& res) {
    const auto job = find(id);
    if (!job) {
      send_error(res, 404, "no such consultation");
      return;
    }
    std::lock_guard lock(job->mu);
    if (job->state != "done") {
      send_error(res, 409, fmt::format("the consultation is {}, not done", job->state));
      return;
    }
    if (what == Export::Html) {
      res.set_header("Content-Security-Policy", kPrintCsp);
      res.set_content(job->result.html, "text/html; charset=utf-8");
      return;
    }
    if (what == Export::HeightMap) {
      // The uploaded map as it came, under the name the exported scenario gives it.
      if (!job->result.heightmap) {
        send_error(res, 409, "there is no height map to export");
        return;
      }
      const std::string& name = job->request.surface.file;
      const bool png = name.ends_with(".png");
      res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
      res.set_content(job->request.heightmap, png ? "image/png" : "text/csv; charset=utf-8");
      return;
    }
    if (job->result.scenario.empty()) {
      send_error(res, 409, "there is no scenario to export: " + job->result.scenario_note);
      return;
    }
    res.set_header("Content-Disposition", "attachment; filename=\"consultation_scenario.toml\"");
    res.set_content(job->result.scenario, "application/toml; charset=utf-8");
  }

  /// Runs a handler; whatever it throws becomes a 500 answer, never the server's end.
  template <class F>
  static httplib::Server::Handler guarded(F f) {
    return [f](const httplib::Request& req, httplib::Response& res) {
      try {
        f(req, res);
      } catch (const std::exception& e) {
        send_error(res, 500, fmt::format("internal error: {}", e.what()));
      } catch (...) {
        send_error(res, 500, "internal error");
      }
    };
  }

  void routes() {
    // The body of the largest request: the JSON and a height map, with the form's overhead.
    http.set_payload_max_length(opt.max_body_bytes + opt.max_upload_bytes + 64 * 1024);
    http.set_read_timeout(opt.io_timeout_s, 0);
    http.set_write_timeout(opt.io_timeout_s, 0);
    http.set_keep_alive_timeout(std::max(1, opt.keep_alive_s));
    http.set_keep_alive_max_count(100);
    const auto pool = static_cast<std::size_t>(std::max(1, opt.http_threads));
    const auto queued = static_cast<std::size_t>(std::max(1, opt.max_queued_connections));
    http.new_task_queue = [pool, queued] { return new BoundedPool(pool, queued); };
    http.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                              {"Referrer-Policy", "no-referrer"},
                              {"X-Frame-Options", "DENY"}});
    const bool local = loopback_name(opt.host);
    http.set_pre_routing_handler([local](const httplib::Request& req, httplib::Response& res) {
      // A page elsewhere cannot reach this server through a name that resolves to 127.0.0.1
      // (DNS rebinding) nor post to it from another origin.
      const std::string host = req.get_header_value("Host");
      if (local && !loopback_name(host_name(host))) {
        send_error(res, 403, "this server answers requests for 127.0.0.1 or localhost only");
        return httplib::Server::HandlerResponse::Handled;
      }
      const std::string origin = req.get_header_value("Origin");
      if (req.method == "POST" && !origin.empty() && origin != "http://" + host) {
        send_error(res, 403, "requests from another origin are refused");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    for (const auto& [route, file] : files) {
      const std::string* body = &file.first;
      const char* mime = file.second;
      http.Get(route, guarded([body, mime](const httplib::Request&, httplib::Response& res) {
                 res.set_header("Content-Security-Policy", kPageCsp);
                 res.set_header("Cache-Control", "no-cache");
                 res.set_content(*body, mime);
               }));
    }
    http.Get("/api/options", guarded([this](const httplib::Request&, httplib::Response& res) {
               res.set_header("Cache-Control", "no-store");
               res.set_content(options, "application/json");
             }));
    http.Post("/api/consult", guarded([this](const httplib::Request& req, httplib::Response& res) {
                consult(req, res);
              }));
    http.Get("/api/jobs/([0-9a-f]{32})",
             guarded([this](const httplib::Request& req, httplib::Response& res) {
               status(req.matches[1], res);
             }));
    http.Get("/api/jobs/([0-9a-f]{32})/consultation\\.html",
             guarded([this](const httplib::Request& req, httplib::Response& res) {
               export_file(req.matches[1], Export::Html, res);
             }));
    http.Get("/api/jobs/([0-9a-f]{32})/scenario\\.toml",
             guarded([this](const httplib::Request& req, httplib::Response& res) {
               export_file(req.matches[1], Export::Scenario, res);
             }));
    http.Get("/api/jobs/([0-9a-f]{32})/consultation_heightmap\\.(png|csv)",
             guarded([this](const httplib::Request& req, httplib::Response& res) {
               const auto job = find(req.matches[1]);
               if (job && job->request.surface.file !=
                              "consultation_heightmap." + std::string(req.matches[2])) {
                 send_error(res, 404, "not found");
                 return;
               }
               export_file(req.matches[1], Export::HeightMap, res);
             }));
    // Errors without a body of their own (404, 405, 413 too large, 400 unreadable) as JSON.
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request&, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          if (res.status == 413) {
            send_error(res, 413,
                       fmt::format("request: -: the request is too large (at most {} bytes, and "
                                   "{} bytes for a height map)",
                                   opt.max_body_bytes, opt.max_upload_bytes));
          } else if (res.status == 404) {
            send_error(res, 404, "not found");
          } else {
            send_error(res, res.status, fmt::format("HTTP error {}", res.status));
          }
          return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                  std::exception_ptr) { send_error(res, 500, "internal error"); });
  }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->opt = std::move(options);
  const std::filesystem::path dir =
      impl_->opt.web_dir.empty() ? data_dir() / "web" : impl_->opt.web_dir;
  for (const auto& f : kWebFiles) {
    impl_->files[f.route] = {io::read_text_file(dir / f.name, 1u << 20, "a file of the web page"),
                             f.mime};
  }
  impl_->model = protocol::ReducedModel::load_default();
  impl_->options = options_json().dump();
  impl_->routes();
  impl_->worker = std::thread([this] { impl_->work(); });
}

Server::~Server() {
  stop();
  if (impl_->worker.joinable()) impl_->worker.join();
  impl_->reaper.reset();
}

std::size_t Server::connections_reaped() const {
  return impl_->reaper ? impl_->reaper->reaped() : 0;
}

int Server::bind() {
  auto& o = impl_->opt;
  int port = o.port;
  bool ok = false;
  if (o.port == 0) {
    port = impl_->http.bind_to_any_port(o.host);
    ok = port > 0;
  } else {
    ok = impl_->http.bind_to_port(o.host, o.port);
  }
  if (ok) {
    impl_->reaper = std::make_unique<ConnectionReaper>(
        port, std::chrono::milliseconds(static_cast<long long>(o.connection_limit_s * 1000)));
  }
  if (!ok) {
    throw InputError({"command line", 0, 0}, "--host",
                     fmt::format("cannot listen on {} port {}", o.host, o.port),
                     "an address of this machine and a free port, or --port 0 for any free port");
  }
  return port;
}

bool Server::run() {
  return impl_->http.listen_after_bind();
}

void Server::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    for (auto& [id, job] : impl_->jobs) job->stop.request(SIGTERM);
  }
  impl_->cv.notify_all();
  impl_->http.stop();
}

}  // namespace mnsim::serve
