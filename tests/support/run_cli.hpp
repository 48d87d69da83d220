// Runs the real mnsim binary (as a user would) and captures exit code, stdout and stderr.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace mnsim::test {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp_fd(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  return s;
}

/// Runs `binary args...` in `cwd` (empty: current folder); stdin is /dev/null.
inline CliResult run_cli(const std::vector<std::string>& args, const std::string& cwd = {},
                         const std::string& binary = MNSIM_BINARY) {
  char out_tpl[] = "/tmp/mnsim_cli_outXXXXXX";
  char err_tpl[] = "/tmp/mnsim_cli_errXXXXXX";
  const int out_fd = ::mkstemp(out_tpl);
  const int err_fd = ::mkstemp(err_tpl);
  CliResult r;
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(127);
    const int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
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

}  // namespace mnsim::test
