// bench_run: runs a command and reports what it cost (scripts/bench.sh).
//
//   bench_run OUTFILE COMMAND [ARGS...]
//
// Runs COMMAND (stdin, stdout and stderr inherited) and, once it has exited, appends one line to
// OUTFILE:
//   wall=SECONDS user=SECONDS sys=SECONDS maxrss_kb=N rchar=N wchar=N read_bytes=N write_bytes=N rc=N
// user/sys/maxrss come from wait4's rusage (the command and the descendants it waited for);
// rchar/wchar/read_bytes/write_bytes from /proc/PID/io, read while the command is a zombie
// (waitid WNOWAIT), so they include its threads and its waited-for descendants. rchar counts
// every byte returned by read-like system calls (page cache hits too); read_bytes only what came
// from the block device. Exit code: the command's (128+signal when killed), 127 when it could not
// be started, 2 on usage errors.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

namespace {

double Now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

double Seconds(const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; }

// /proc/PID/io as name -> value ("rchar: 123" lines); empty when unreadable.
std::map<std::string, unsigned long long> ReadIo(pid_t pid) {
  std::map<std::string, unsigned long long> m;
  std::ifstream in("/proc/" + std::to_string(pid) + "/io");
  std::string name;
  unsigned long long v = 0;
  while (in >> name >> v) {
    if (!name.empty() && name.back() == ':') name.pop_back();
    m[name] = v;
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_run OUTFILE COMMAND [ARGS...]\n");
    return 2;
  }
  const char* outfile = argv[1];
  const double t0 = Now();
  pid_t pid = fork();
  if (pid < 0) {
    std::fprintf(stderr, "bench_run: fork: %s\n", std::strerror(errno));
    return 127;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    std::fprintf(stderr, "bench_run: cannot run %s: %s\n", argv[2], std::strerror(errno));
    _exit(127);
  }
  siginfo_t si{};
  while (waitid(P_PID, id_t(pid), &si, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "bench_run: waitid: %s\n", std::strerror(errno));
      return 127;
    }
  }
  const double wall = Now() - t0;
  std::map<std::string, unsigned long long> io = ReadIo(pid);
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "bench_run: wait4: %s\n", std::strerror(errno));
      return 127;
    }
  }
  const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  FILE* f = std::fopen(outfile, "a");
  if (f == nullptr) {
    std::fprintf(stderr, "bench_run: %s: %s\n", outfile, std::strerror(errno));
    return 127;
  }
  std::fprintf(f, "wall=%.6f user=%.6f sys=%.6f maxrss_kb=%ld rchar=%llu wchar=%llu read_bytes=%llu write_bytes=%llu rc=%d\n",
               wall, Seconds(ru.ru_utime), Seconds(ru.ru_stime), ru.ru_maxrss, io["rchar"], io["wchar"],
               io["read_bytes"], io["write_bytes"], rc);
  std::fclose(f);
  return rc;
}
