#include <fluss_fetch/fetch/retry.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fluss_fetch::fetch {

std::chrono::nanoseconds retry_policy::backoff(int retry, double u) const noexcept {
    const double initial = std::chrono::duration<double>(initial_backoff).count();
    const double cap = std::chrono::duration<double>(max_backoff).count();
    const double base = std::min(cap, initial * std::pow(multiplier, std::max(0, retry)));
    u = std::clamp(u, 0.0, 1.0);
    const double wait = base * (1.0 + jitter * (2.0 * u - 1.0));
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(std::max(0.0, wait)));
}

void retry_policy::validate() const {
    if (max_retries < 0) throw std::invalid_argument("retry_policy.max_retries must be >= 0");
    if (initial_backoff.count() < 0) throw std::invalid_argument("retry_policy.initial_backoff must be >= 0");
    if (!(multiplier >= 1.0)) throw std::invalid_argument("retry_policy.multiplier must be >= 1");
    if (max_backoff < initial_backoff) throw std::invalid_argument("retry_policy.max_backoff must be >= initial_backoff");
    if (!(jitter >= 0.0 && jitter < 1.0)) throw std::invalid_argument("retry_policy.jitter must be in [0, 1)");
}

}  // namespace fluss_fetch::fetch
