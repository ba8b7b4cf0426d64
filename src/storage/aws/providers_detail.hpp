// Helpers shared by the local credential providers. Internal.
#pragma once

#include "storage/aws/profile.hpp"

#include <fluss_fetch/storage/credentials.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace fluss_fetch::storage::aws {

/// ISO 8601 / RFC 3339 date-time: `2026-12-02T14:00:00Z`, with fractional
/// seconds, `+hh:mm` / `-hh:mm` / `+hhmm` offsets, or a space for 'T'.
/// nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s);

/// A provider that always completes with `ec` and `message` (posted, never inline).
credentials_provider_ptr make_failing_provider(boost::asio::any_io_executor ex, boost::system::error_code ec,
                                               std::string message, std::string description);

/// Runs `command` through /bin/sh on every call (see make_process_credentials_provider).
/// `who` names it in messages and in `source`: "profile dev (/home/u/.aws/config)".
credentials_provider_ptr make_command_provider(boost::asio::any_io_executor ex, std::string command,
                                               std::string who, std::chrono::milliseconds timeout);

/// Complete `h` later, never inline: post to `fallback`, then dispatch to the
/// handler's associated executor, where its cancellation slot is cleared
/// (the slot's handler, if any, was ours) right before it runs.
template <class Handler>
void complete_later(boost::asio::any_io_executor fallback, Handler h, boost::system::error_code ec,
                    aws_credentials c) {
    namespace asio = boost::asio;
    asio::post(fallback, [fallback, h = std::move(h), ec, c = std::move(c)]() mutable {
        auto ex = asio::get_associated_executor(h, fallback);
        asio::dispatch(ex, [h = std::move(h), ec, c = std::move(c)]() mutable {
            auto slot = asio::get_associated_cancellation_slot(h);
            if (slot.is_connected()) slot.clear();
            std::move(h)(ec, std::move(c));
        });
    });
}

/// The environment `opts` selects (its own, else the process's).
inline env_lookup env_of(const credentials_options& opts) { return opts.env ? opts.env : process_env(); }

}  // namespace fluss_fetch::storage::aws
