// Run a library operation as a coroutine on a strand, with cancellation the
// library owns.
//
// Why not co_spawn(ex, coro, user_handler) directly: in Asio 1.81, co_spawn's
// cancellation forwarding can touch freed memory when the handler has an
// associated executor (asio#1332), and a cancellation emitted from another
// thread races the coroutine. Instead the caller's slot gets a small handler
// that only *posts* to the operation's strand; there the operation emits a
// terminal cancellation on a signal it owns (bound to the coroutine) and runs
// an optional hook (closing a socket, cancelling a resolver). The coroutine
// sees `op_state::cancelled` and every pending operation completes with
// operation_aborted. The caller's handler is invoked exactly once, through its
// associated executor, never inline from the initiating function.
//
// A cancellation can also arrive after the coroutine has finished, while its
// result travels to the handler (`||` cancels the loser once the winner has
// completed, and then throws the loser's result away). An operation whose
// result must not be lost passes a `settle` step: it runs on the handler's
// associated executor right before the handler, learns whether the caller
// asked for cancellation by then, and may undo the operation's effect and
// turn the result into operation_aborted.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/errc.hpp>
#include <boost/system/system_error.hpp>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <system_error>
#include <tuple>
#include <utility>

#include <fluss_fetch/error.hpp>

#include "core/logging.hpp"

namespace fluss_fetch::detail {

using strand_type = boost::asio::strand<boost::asio::any_io_executor>;

/// Shared between the coroutine, the caller's cancellation slot and the
/// completion. Touched only on `strand`.
struct op_state {
    explicit op_state(strand_type s) : strand(std::move(s)) {}

    strand_type strand;
    boost::asio::cancellation_signal signal;
    bool cancelled = false;
    bool done = false;
    /// Set (any thread) when the caller's slot fired, even after the coroutine
    /// finished; read by `settle`. Shared on its own so that the completion
    /// need not carry `op_state` (and its strand) to the caller's executor.
    std::shared_ptr<std::atomic<bool>> cancel_requested = std::make_shared<std::atomic<bool>>(false);
    std::function<void()> on_cancel;  ///< run on the strand when cancelled

    void cancel() {
        if (done || cancelled) return;
        cancelled = true;
        signal.emit(boost::asio::cancellation_type::terminal);
        if (on_cancel) on_cancel();
    }
};

/// Turn an escaped exception into an error code (a bug or bad_alloc: never silent).
/// Running out of memory is `not_enough_memory`; a system_error keeps its code;
/// anything else is a bug, `errc::internal_bug` (not retried), logged with its
/// what() — never "malformed response", which is retried and blames the server.
inline boost::system::error_code exception_to_error(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::bad_alloc&) {
        return boost::system::errc::make_error_code(boost::system::errc::not_enough_memory);
    } catch (const boost::system::system_error& se) {
        return se.code();
    } catch (const std::system_error& se) {
        const auto& cat = se.code().category();
        if (cat == std::generic_category() || cat == std::system_category())
            return {se.code().value(), boost::system::generic_category()};  // an errno value
        // Another category, e.g. fluss_fetch's errc thrown as a std::system_error:
        // Boost maps a wrapped Boost category back to itself.
        return boost::system::error_code(se.code());
    } catch (const std::exception& x) {
        logger().error("unexpected exception (a bug, reported as internal_bug): {}", x.what());
        return make_error_code(errc::internal_bug);
    } catch (...) {
        logger().error("unexpected exception not derived from std::exception (a bug, reported as internal_bug)");
        return make_error_code(errc::internal_bug);
    }
}

/// Complete `h` with `args` later (never inline): post to `fallback`, then
/// dispatch to the handler's associated executor. (Asio 1.81 cannot post to
/// an any_completion_executor, and asio::append around an
/// any_completion_handler recurses without end, hence two steps.)
template <class Handler, class... Args>
void post_completion(boost::asio::any_io_executor fallback, Handler h, Args... args) {
    namespace asio = boost::asio;
    asio::post(fallback, [fallback, h = std::move(h), ... args = std::move(args)]() mutable {
        auto ex = asio::get_associated_executor(h, fallback);
        asio::dispatch(ex, [h = std::move(h), ... args = std::move(args)]() mutable { std::move(h)(std::move(args)...); });
    });
}

/// The default `settle`: the result goes to the handler as it is.
struct keep_result {
    template <class Result>
    void operator()(bool /*cancel_requested*/, Result& /*r*/) const noexcept {}
};

/// Launch `make(state)` — a function returning `awaitable<std::tuple<error_code, Args...>>` —
/// on `strand`, completing `handler` with `(error_code, Args...)`. `settle(cancel_requested,
/// result&)` runs on the handler's associated executor immediately before the handler.
template <class... Args, class Make, class Settle = keep_result>
void launch(strand_type strand, Make make,
            boost::asio::any_completion_handler<void(boost::system::error_code, Args...)> handler,
            Settle settle = {}) {
    namespace asio = boost::asio;
    auto st = std::make_shared<op_state>(strand);
    auto slot = asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) {
        slot.assign([st](asio::cancellation_type type) {
            if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                         asio::cancellation_type::total)) != asio::cancellation_type::none) {
                st->cancel_requested->store(true, std::memory_order_release);
                asio::post(st->strand, [st] { st->cancel(); });
            }
        });
    }
    using result_t = std::tuple<boost::system::error_code, Args...>;
    // The closure lives on the heap, not as a coroutine parameter: GCC 12
    // destroyed a by-value closure parameter of a coroutine with a bad pointer
    // (found by valgrind). shared_ptr parameters are safe and keep it alive.
    auto holder = std::make_shared<Make>(std::move(make));
    auto body = [](std::shared_ptr<op_state> st, std::shared_ptr<Make> m) -> asio::awaitable<result_t> {
        co_await asio::this_coro::throw_if_cancelled(false);
        co_return co_await (*m)(st);
    };
    asio::co_spawn(
        strand, body(st, std::move(holder)),
        asio::bind_cancellation_slot(
            st->signal.slot(),
            [st, h = std::move(handler), settle = std::move(settle)](std::exception_ptr e, result_t r) mutable {
                st->done = true;
                st->on_cancel = nullptr;
                if (e) r = result_t{exception_to_error(e), Args{}...};
                auto ex = asio::get_associated_executor(h, st->strand);
                asio::dispatch(ex, [flag = st->cancel_requested, h = std::move(h), r = std::move(r),
                                    settle = std::move(settle)]() mutable {
                    settle(flag->load(std::memory_order_acquire), r);
                    std::apply([&h](auto&&... a) { std::move(h)(std::forward<decltype(a)>(a)...); }, std::move(r));
                });
            }));
}

}  // namespace fluss_fetch::detail
