// `mnsim serve` (docs/serve.md): a local web app for consultations over HTTP (cpp-httplib). It
// serves the page (data/web: index.html, app.css, app.js, read once at start and served from
// memory, so no request path ever reaches the file system) and a JSON API:
//   GET  /api/options                    the form's choices (sites, scar kinds, devices, ...)
//   POST /api/consult                    a consultation (serve/consult.hpp; JSON, or a multipart
//                                        form of the JSON and a height map): 202 {"job", ...},
//                                        400 {"error", "key"} (the schema's one-line message),
//                                        413 too large, 503 when the job queue is full
//   GET  /api/jobs/ID                    state, stage, progress fraction; the result when done
//   GET  /api/jobs/ID/consultation.html  the printable page
//   GET  /api/jobs/ID/scenario.toml      the recommended protocol as a scenario for `mnsim run`
//   GET  /api/jobs/ID/consultation_heightmap.png|csv  an uploaded height map, for the scenario
// Limits: request body size (JSON, height map), socket read/write and keep-alive timeouts, a
// bounded pool of connection threads and queue of connections, a lifetime limit per connection, a
// bounded job queue run one job at a time, a time limit per job (the job stops and fails), the
// finished jobs kept. Every handler catches what it throws: a failing request answers an error and
// the server goes on.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "serve/consult.hpp"

namespace mnsim::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";                  // loopback unless told otherwise
  int port = 8080;                                 // 0: any free port (bind() returns it)
  int threads = 0;                                 // OpenMP threads of a consultation (0: all)
  std::size_t max_body_bytes = 64 * 1024;          // the JSON request
  std::size_t max_upload_bytes = 4 * 1024 * 1024;  // an uploaded height map
  int max_pending_jobs = 4;                        // queued and running; more: 503
  int kept_jobs = 32;               // finished jobs kept for their results (oldest dropped)
  double job_time_limit = 120.0;    // s of wall-clock time per job
  int io_timeout_s = 5;             // socket read and write timeouts
  int keep_alive_s = 2;             // an idle connection is closed after this
  int http_threads = 16;            // threads answering connections
  int max_queued_connections = 64;  // accepted connections waiting for a thread; more wait
  double connection_limit_s = 60;   // a connection open longer is shut down (ConnectionReaper)
  std::filesystem::path web_dir;    // the page's files; empty: data_dir()/web
  ConsultLimits limits;
};

class Server {
 public:
  /// Loads the page's files and the reduced model's data. Throws InputError when a file of the
  /// page is missing.
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds the socket; returns the port (the one chosen when options.port is 0). Throws
  /// InputError at --port or --host when it cannot listen there.
  int bind();
  /// Serves until stop() (call bind() first). Returns false if the server could not run.
  bool run();
  /// Stops serving (from any thread): running jobs are asked to stop, run() returns.
  void stop();
  /// Connections shut down for outliving ServerOptions::connection_limit_s.
  std::size_t connections_reaped() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mnsim::serve
