// Talking to a supervisor the systemd way (sd_notify(3)): READY=1 when the process can
// serve, WATCHDOG=1 pings while its loop is healthy, RELOADING=1 … READY=1 around a
// reload, STOPPING=1 on the way out, STATUS=… a short line for `systemctl status`.
// The supervisor is systemd, or closeloopd, which gives its children a socket of its
// own as NOTIFY_SOCKET (services/closeloopd). Without NOTIFY_SOCKET every call is a
// no-op, so the daemons run the same by hand.
//
// NotifySocket is the other end: a unix datagram socket that receives such messages
// with the sender's pid (SO_PASSCRED), for closeloopd and for tests standing in for
// systemd. Single-threaded use only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace closeloop {

namespace notify {
void ready(std::string_view status);
void reloading(std::string_view status);
void stopping(std::string_view status);
void status(std::string_view status);
}  // namespace notify

// WATCHDOG=1 at half the interval systemd asked for (WATCHDOG_USEC), sent only by
// ping_if_due(), which the loop calls at the end of each turn it completes: a loop stuck
// in a turn stops pinging and the supervisor kills it.
class Watchdog {
 public:
  Watchdog();  // reads WATCHDOG_USEC (and WATCHDOG_PID) once
  bool enabled() const { return interval_ms_ > 0; }
  int64_t interval_ms() const { return interval_ms_; }  // half the supervisor's timeout
  // Milliseconds until the next ping is due (a poll timeout), or -1 when disabled.
  int64_t due_in_ms() const;
  void ping_if_due();

 private:
  int64_t interval_ms_ = 0, next_ms_ = 0;
};

class NotifySocket {
 public:
  struct Message {
    pid_t pid = 0;
    std::string text;  // newline-separated assignments, e.g. "READY=1\nSTATUS=serving"
  };
  // Binds a unix datagram socket at `address`: a path, or "@name" in the abstract
  // namespace. Throws std::runtime_error if it cannot.
  explicit NotifySocket(const std::string& address);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& address() const { return address_; }
  int fd() const { return fd_; }
  // Every message waiting (never blocks).
  std::vector<Message> take();

 private:
  std::string address_;
  int fd_ = -1;
};

// Whether `text` (a notify message) holds the assignment `line`, e.g. "READY=1".
bool has_line(std::string_view text, std::string_view line);

}  // namespace closeloop
