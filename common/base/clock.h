// Milliseconds for timers and stamps: the worker's, the broker's and the client's deadlines
// (a header of its own, so that the client need not include the worker's).
#pragma once

#include <chrono>
#include <cstdint>

namespace closeloop {

// Milliseconds on a monotonic clock.
inline int64_t monotonic_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Milliseconds since 1970 on the wall clock.
inline int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace closeloop
