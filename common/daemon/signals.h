// Signals as file descriptors. Construct a SignalFd in main() before any thread
// starts (ZeroMQ's I/O threads included): it blocks the given signals in the whole
// process and delivers them through a descriptor that an event loop polls next to
// its sockets (zmq::poll accepts plain fds). So no code runs in signal context.
#pragma once

#include <initializer_list>

namespace closeloop {

class SignalFd {
 public:
  explicit SignalFd(std::initializer_list<int> signals);
  ~SignalFd();
  SignalFd(const SignalFd&) = delete;
  SignalFd& operator=(const SignalFd&) = delete;

  int fd() const { return fd_; }
  // The next pending signal number, or 0 if none is pending (never blocks).
  int take();

 private:
  int fd_ = -1;
};

}  // namespace closeloop
