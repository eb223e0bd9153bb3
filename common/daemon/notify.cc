#include "daemon/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace closeloop {

namespace {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// A STATUS= line is one line: newlines would start new assignments.
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c == '\n') c = ' ';
  return out;
}

void send(std::string_view state, std::string_view status) {
  std::string message(state);
  if (!status.empty()) message += (message.empty() ? "STATUS=" : "\nSTATUS=") + one_line(status);
  (void)sd_notify(0, message.c_str());  // no supervisor listening is not an error
}

}  // namespace

namespace notify {
void ready(std::string_view status) { send("READY=1", status); }
void reloading(std::string_view status) { send("RELOADING=1", status); }
void stopping(std::string_view status) { send("STOPPING=1", status); }
void status(std::string_view status) { send("", status); }
}  // namespace notify

Watchdog::Watchdog() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
    interval_ms_ = std::max<int64_t>(1, static_cast<int64_t>(usec / 2000));
  next_ms_ = now_ms();
}

int64_t Watchdog::due_in_ms() const {
  if (!enabled()) return -1;
  return std::max<int64_t>(0, next_ms_ - now_ms());
}

void Watchdog::ping_if_due() {
  if (!enabled()) return;
  int64_t now = now_ms();
  if (now < next_ms_) return;
  (void)sd_notify(0, "WATCHDOG=1");
  next_ms_ = now + interval_ms_;
}

NotifySocket::NotifySocket(const std::string& address) : address_(address) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (address.empty() || address.size() >= sizeof addr.sun_path)
    throw std::runtime_error("notify socket address too long or empty: " + address);
  std::memcpy(addr.sun_path, address.data(), address.size());
  if (address[0] == '@') addr.sun_path[0] = '\0';  // the abstract namespace
  socklen_t len = offsetof(sockaddr_un, sun_path) + address.size();
  int one = 1;
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0 ||
      bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    std::string why = std::strerror(errno);
    if (fd_ >= 0) ::close(fd_);
    throw std::runtime_error("notify socket " + address + ": " + why);
  }
}

NotifySocket::~NotifySocket() {
  ::close(fd_);
  if (!address_.empty() && address_[0] != '@') ::unlink(address_.c_str());
}

std::vector<NotifySocket::Message> NotifySocket::take() {
  std::vector<Message> out;
  for (;;) {
    char buf[4096];
    iovec iov{buf, sizeof buf};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) break;
    Message m;
    m.text.assign(buf, static_cast<size_t>(n));
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
        ucred cred;
        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
        m.pid = cred.pid;
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

bool has_line(std::string_view text, std::string_view line) {
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (text.substr(start, end - start) == line) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace closeloop
