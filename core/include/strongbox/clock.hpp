// The wall clock every part of strongbox reads, so a test can run a server through simulated days.
#pragma once

#include <cstdint>

namespace sbx::clock {

// Nanoseconds since the Unix epoch (UTC). When $STRONGBOX_CLOCK_FILE names a file, its content (an integer of
// nanoseconds, or an ISO 8601 UTC time like 2026-03-29T00:59:00Z) is the time instead: tests advance it to
// drive schedules, windows and retention without waiting. An unreadable or malformed file is a fatal error
// rather than a silent fall-back to the real clock.
int64_t now_ns();

// True when the clock is simulated (the server then polls faster than the simulated time would suggest).
bool simulated();

}  // namespace sbx::clock
