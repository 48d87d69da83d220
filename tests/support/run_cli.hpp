// Runs the real mnsim binary (as a user would) and captures exit code, stdout and stderr.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace mnsim::test {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  bool timed_out = false;  // killed (SIGKILL, with its process group) after CliOptions::timeout_s
};

struct CliOptions {
  std::string cwd;               // empty: the current folder
  double timeout_s = 0;          // > 0: kill the command if it runs longer (a hang)
  std::vector<std::string> env;  // "NAME=VALUE" sets, "NAME" unsets, in the child only
  std::string binary = MNSIM_BINARY;
};

inline std::string slurp_fd(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  return s;
}

/// Runs `binary args...`; stdin is /dev/null. With a timeout, a command still running after
/// `timeout_s` is killed with its whole process group and reported (`timed_out`, exit code 137),
/// so a hang fails the test instead of blocking the suite.
inline CliResult run_cli(const std::vector<std::string>& args, const CliOptions& o) {
  char out_tpl[] = "/tmp/mnsim_cli_outXXXXXX";
  char err_tpl[] = "/tmp/mnsim_cli_errXXXXXX";
  const int out_fd = ::mkstemp(out_tpl);
  const int err_fd = ::mkstemp(err_tpl);
  CliResult r;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);  // its own process group: a timeout kills everything it started
    if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) ::_exit(127);
    for (const auto& e : o.env) {
      const auto eq = e.find('=');
      if (eq == std::string::npos) {
        ::unsetenv(e.c_str());
      } else {
        ::setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
      }
    }
    const int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(o.binary.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(o.binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so the group exists before any kill
  int status = 0;
  if (o.timeout_s > 0) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(o.timeout_s);
    for (;;) {
      const pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        r.timed_out = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  } else {
    ::waitpid(pid, &status, 0);
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  ::lseek(out_fd, 0, SEEK_SET);
  ::lseek(err_fd, 0, SEEK_SET);
  r.out = slurp_fd(out_fd);
  r.err = slurp_fd(err_fd);
  ::close(out_fd);
  ::close(err_fd);
  ::unlink(out_tpl);
  ::unlink(err_tpl);
  return r;
}

/// Runs `binary args...` in `cwd` (empty: current folder); stdin is /dev/null; no time limit.
inline CliResult run_cli(const std::vector<std::string>& args, const std::string& cwd = {},
                         const std::string& binary = MNSIM_BINARY) {
  CliOptions o;
  o.cwd = cwd;
  o.binary = binary;
  return run_cli(args, o);
}

}  // namespace mnsim::test
