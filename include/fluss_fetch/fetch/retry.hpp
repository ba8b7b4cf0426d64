// fluss_fetch — retry policy: exponential backoff with jitter.
#pragma once

#include <chrono>

namespace fluss_fetch::fetch {

/// Retries of one request (a whole object or one ranged part). Defaults are
/// Fluss's: 5 retries (6 attempts), 100 ms × 2^k, ±25 % jitter, capped at 5 s.
/// Only errors for which `fluss_fetch::is_retryable` holds are retried.
struct retry_policy {
    int max_retries = 5;
    std::chrono::milliseconds initial_backoff{100};
    double multiplier = 2.0;
    std::chrono::milliseconds max_backoff{5'000};
    double jitter = 0.25;  ///< fraction in [0, 1): the wait is base × (1 + jitter × (2u − 1))

    /// The wait before retry number `retry` (0-based), for a uniform `u` in
    /// [0, 1): min(initial × multiplier^retry, max) × (1 + jitter × (2u − 1)),
    /// never above `max_backoff` × (1 + jitter).
    std::chrono::nanoseconds backoff(int retry, double u) const noexcept;

    /// \throws std::invalid_argument naming the field when a value is out of range.
    void validate() const;
};

}  // namespace fluss_fetch::fetch
