// LD_PRELOAD shim for tests: a disk that fills up or fails, on cue, without privileges.
//
// $CLOSELOOP_FAULT_DIR names a directory, $CLOSELOOP_FAULT_CUE a file the test writes and
// removes while the processes run. While the cue file exists, calls on descriptors of
// files under that directory fail as it says:
//   ENOSPC        write, pwrite, writev fail with ENOSPC (the disk is full)
//   EIO           the same with EIO
//   EIO fsync     fsync and fdatasync fail with EIO (writes succeed: the page cache takes
//                 them, the disk does not confirm them); "ENOSPC fsync" likewise
// Anything else, or no cue file, and every call goes through. LevelDB's PosixEnv writes
// with write() and syncs with fdatasync() (nm -D libleveldb.so: no pwrite, writev or
// fsync); the others are covered so the shim stays true if that changes.
// Loaded only into the processes a test names (Cluster::set_env, or closeloopd's env).
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

enum class Call { kWrite, kSync };

// The file behind `fd` lies under $CLOSELOOP_FAULT_DIR.
bool under_fault_dir(int fd) {
  const char* dir = std::getenv("CLOSELOOP_FAULT_DIR");
  if (!dir || !*dir) return false;
  char link[64], path[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = '\0';
  size_t len = std::strlen(dir);
  while (len > 1 && dir[len - 1] == '/') --len;
  return std::strncmp(path, dir, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

// The errno the cue asks `call` to fail with, or 0.
int cued_errno(Call call) {
  const char* cue = std::getenv("CLOSELOOP_FAULT_CUE");
  if (!cue) return 0;
  int fd = open(cue, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[64] = {};
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return 0;
  bool on_sync = std::strstr(text, "fsync") != nullptr;
  if (on_sync != (call == Call::kSync)) return 0;
  if (std::strncmp(text, "ENOSPC", 6) == 0) return ENOSPC;
  if (std::strncmp(text, "EIO", 3) == 0) return EIO;
  return 0;
}

int injected(Call call, int fd) {
  if (!under_fault_dir(fd)) return 0;
  return cued_errno(call);
}

template <typename Fn>
Fn real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" ssize_t write(int fd, const void* buf, size_t count) {
  static auto next = real<ssize_t (*)(int, const void*, size_t)>("write");
  if (int e = injected(Call::kWrite, fd)) return errno = e, -1;
  return next(fd, buf, count);
}

extern "C" ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static auto next = real<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  if (int e = injected(Call::kWrite, fd)) return errno = e, -1;
  return next(fd, buf, count, offset);
}

extern "C" ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset) {
  static auto next = real<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  if (int e = injected(Call::kWrite, fd)) return errno = e, -1;
  return next(fd, buf, count, offset);
}

extern "C" ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  static auto next = real<ssize_t (*)(int, const struct iovec*, int)>("writev");
  if (int e = injected(Call::kWrite, fd)) return errno = e, -1;
  return next(fd, iov, iovcnt);
}

extern "C" int fsync(int fd) {
  static auto next = real<int (*)(int)>("fsync");
  if (int e = injected(Call::kSync, fd)) return errno = e, -1;
  return next(fd);
}

extern "C" int fdatasync(int fd) {
  static auto next = real<int (*)(int)>("fdatasync");
  if (int e = injected(Call::kSync, fd)) return errno = e, -1;
  return next(fd);
}
