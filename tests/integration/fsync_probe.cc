// LD_PRELOAD probe for tests: records when a process fsyncs. Every fdatasync/fsync
// (LevelDB's sync of its log) calls the real one, then appends the CLOCK_MONOTONIC time
// it returned at, in nanoseconds, as a line to the file $CLOSELOOP_FSYNC_LOG. A test
// compares those times with when acknowledgements arrived: "durable" must come after a
// sync. Loaded only into the processes a test names (Cluster::set_env).
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace {

void record() {
  const char* path = std::getenv("CLOSELOOP_FSYNC_LOG");
  if (!path) return;
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  char line[32];
  int n = std::snprintf(line, sizeof line, "%lld\n", ts.tv_sec * 1000000000LL + ts.tv_nsec);
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  (void)!write(fd, line, n);
  close(fd);
}

using SyncFn = int (*)(int);

int call(const char* name, int fd) {
  auto real = reinterpret_cast<SyncFn>(dlsym(RTLD_NEXT, name));
  int result = real ? real(fd) : -1;
  record();
  return result;
}

}  // namespace

extern "C" int fdatasync(int fd) { return call("fdatasync", fd); }
extern "C" int fsync(int fd) { return call("fsync", fd); }
