#include <fluss_fetch/storage/local_store.hpp>

#include "core/async_op.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

namespace fluss_fetch::storage {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using boost::system::error_code;

struct local_store::impl {
    asio::any_io_executor ex;
    fs::path root;
};

namespace {

constexpr std::size_t chunk_size = 1 << 20;

// A key names a file below the root: relative, no "." or ".." parts.
bool valid_key(std::string_view key) {
    if (key.empty() || key.front() == '/') return false;
    std::size_t start = 0;
    while (start <= key.size()) {
        auto end = key.find('/', start);
        if (end == std::string_view::npos) end = key.size();
        auto part = key.substr(start, end - start);
        if (part == ".." || part == ".") return false;
        start = end + 1;
    }
    return true;
}

std::string iso_time(const struct stat& st) {
    std::tm tm{};
    gmtime_r(&st.st_mtim.tv_sec, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// An ETag for a local file: changes when the file is rewritten.
std::string etag_of(const struct stat& st) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_size),
                  static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ull +
                      static_cast<unsigned long long>(st.st_mtim.tv_nsec));
    return buf;
}

error_code errno_error(diagnostics& diag, const std::string& what, const fs::path& p, int err) {
    diag.message = what + " '" + p.string() + "': " + std::strerror(err);
    if (err == ENOENT || err == ENOTDIR) return make_error_code(errc::no_such_key);
    if (err == EACCES || err == EPERM) return make_error_code(errc::access_denied);
    return make_error_code(errc::file_error);
}

// Refuse keys that would leave the root (errc::invalid_argument).
error_code check_key(std::string_view key, diagnostics& diag, const char* what = "key") {
    if (valid_key(key)) return {};
    diag.message = std::string(what) + " must be a relative path without '.' or '..' parts";
    return make_error_code(errc::invalid_argument);
}

// A store rooted at "/" (what open_store makes of a file:// URI) takes the
// absolute path without its leading '/' as the key: messages give it back
// its '/', so "GET /var/x.log", not "GET var/x.log". Under any other root
// the key stays the object key (relative to the remote dir) that callers match.
void start_diag(diagnostics& diag, const char* op, const std::string& key, const fs::path& root) {
    diag.clear();
    diag.operation = op;
    diag.key = root == fs::path("/") && valid_key(key) ? "/" + key : key;
}

struct fd_guard {
    int fd = -1;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

local_store::local_store(executor_type ex, fs::path root)
    : impl_(std::make_shared<impl>(impl{std::move(ex), std::move(root)})) {}

local_store::~local_store() = default;

local_store::executor_type local_store::get_executor() const noexcept { return impl_->ex; }

std::string local_store::describe() const { return "file://" + impl_->root.string(); }

const fs::path& local_store::root() const noexcept { return impl_->root; }

void local_store::do_get(std::string key, get_options opts, byte_sink& sink, diagnostics& diag, get_handler h) {
    auto self = impl_;
    detail::launch<get_result>(
        asio::make_strand(self->ex),
        [self, key = std::move(key), opts = std::move(opts), &sink,
         &diag](std::shared_ptr<detail::op_state> st) -> asio::awaitable<std::tuple<error_code, get_result>> {
            using result = std::tuple<error_code, get_result>;
            start_diag(diag, "GET", key, self->root);
            if (auto ec = check_key(key, diag)) co_return result{ec, {}};
            const fs::path p = self->root / key;
            fd_guard f{::open(p.c_str(), O_RDONLY | O_CLOEXEC)};
            if (f.fd < 0) co_return result{errno_error(diag, "cannot open", p, errno), {}};
            struct stat sb {};
            if (::fstat(f.fd, &sb) != 0) co_return result{errno_error(diag, "cannot stat", p, errno), {}};
            if (!S_ISREG(sb.st_mode)) {
                diag.message = "'" + p.string() + "' is not a regular file";
                co_return result{make_error_code(errc::no_such_key), {}};
            }
            get_result out;
            out.meta = object_meta{static_cast<std::uint64_t>(sb.st_size), etag_of(sb), iso_time(sb)};
            if (!opts.if_match.empty() && opts.if_match != out.meta.etag) {
                diag.message = "the file changed: ETag " + out.meta.etag + ", expected " + opts.if_match;
                co_return result{make_error_code(errc::precondition_failed), {}};
            }
            std::uint64_t offset = 0, length = out.meta.size;
            if (opts.range) {
                if (opts.range->length == 0 || opts.range->offset >= out.meta.size ||
                    opts.range->length > out.meta.size - opts.range->offset) {
                    diag.message = "range " + std::to_string(opts.range->offset) + "+" +
                                   std::to_string(opts.range->length) + " is outside the file's " +
                                   std::to_string(out.meta.size) + " bytes";
                    co_return result{make_error_code(errc::invalid_range), {}};
                }
                offset = opts.range->offset;
                length = opts.range->length;
            }
            auto buf = std::make_unique<std::byte[]>(static_cast<std::size_t>(std::min<std::uint64_t>(
                chunk_size, std::max<std::uint64_t>(length, 1))));
            while (length > 0) {
                if (st->cancelled) co_return result{asio::error::operation_aborted, {}};
                const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size, length));
                const ssize_t n = ::pread(f.fd, buf.get(), want, static_cast<off_t>(offset));
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) co_return result{errno_error(diag, "cannot read", p, errno), {}};
                if (n == 0) {
                    diag.message = "'" + p.string() + "' shrank while it was read";
                    co_return result{make_error_code(errc::truncated_body), {}};
                }
                if (auto ec = sink.write(buf.get(), static_cast<std::size_t>(n))) {
                    diag.message = "the sink refused the data: " + ec.message();
                    co_return result{ec, {}};
                }
                offset += static_cast<std::uint64_t>(n);
                length -= static_cast<std::uint64_t>(n);
                out.bytes += static_cast<std::uint64_t>(n);
                // Let other work run and a cancellation arrive between chunks.
                co_await asio::post(st->strand, asio::use_awaitable);
            }
            co_return result{error_code{}, out};
        },
        std::move(h));
}

void local_store::do_head(std::string key, diagnostics& diag, head_handler h) {
    auto self = impl_;
    detail::launch<object_meta>(
        asio::make_strand(self->ex),
        [self, key = std::move(key),
         &diag](std::shared_ptr<detail::op_state>) -> asio::awaitable<std::tuple<error_code, object_meta>> {
            using result = std::tuple<error_code, object_meta>;
            start_diag(diag, "HEAD", key, self->root);
            if (auto ec = check_key(key, diag)) co_return result{ec, {}};
            const fs::path p = self->root / key;
            struct stat sb {};
            if (::stat(p.c_str(), &sb) != 0) co_return result{errno_error(diag, "cannot stat", p, errno), {}};
            if (!S_ISREG(sb.st_mode)) {
                diag.message = "'" + p.string() + "' is not a regular file";
                co_return result{make_error_code(errc::no_such_key), {}};
            }
            co_return result{error_code{},
                             object_meta{static_cast<std::uint64_t>(sb.st_size), etag_of(sb), iso_time(sb)}};
        },
        std::move(h));
}

void local_store::do_list(std::string prefix, diagnostics& diag, list_handler h) {
    auto self = impl_;
    using entries = std::vector<object_entry>;
    detail::launch<entries>(
        asio::make_strand(self->ex),
        [self, prefix = std::move(prefix),
         &diag](std::shared_ptr<detail::op_state>) -> asio::awaitable<std::tuple<error_code, entries>> {
            using result = std::tuple<error_code, entries>;
            start_diag(diag, "LIST", prefix, self->root);
            if (!prefix.empty())
                if (auto ec = check_key(prefix.back() == '/' ? prefix.substr(0, prefix.size() - 1) : prefix, diag,
                                        "prefix"))
                    co_return result{ec, {}};
            // Walk the folder the prefix lies in; keep files whose key starts with it.
            const auto slash = prefix.rfind('/');
            const std::string dir_part = slash == std::string::npos ? "" : prefix.substr(0, slash);
            const fs::path dir = dir_part.empty() ? self->root : self->root / dir_part;
            entries out;
            std::error_code ec;
            if (!fs::is_directory(dir, ec)) co_return result{error_code{}, std::move(out)};
            for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
                if (!it->is_regular_file(ec)) continue;
                std::string key = fs::relative(it->path(), self->root, ec).generic_string();
                if (ec || !key.starts_with(prefix)) continue;
                struct stat sb {};
                if (::stat(it->path().c_str(), &sb) != 0) continue;
                out.push_back({std::move(key), static_cast<std::uint64_t>(sb.st_size), etag_of(sb), iso_time(sb)});
            }
            if (ec) co_return result{errno_error(diag, "cannot list", dir, ec.value()), {}};
            std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
            co_return result{error_code{}, std::move(out)};
        },
        std::move(h));
}

void local_store::do_put(std::string key, std::string body, diagnostics& diag, put_handler h) {
    auto self = impl_;
    detail::launch<>(
        asio::make_strand(self->ex),
        [self, key = std::move(key), body = std::move(body),
         &diag](std::shared_ptr<detail::op_state>) -> asio::awaitable<std::tuple<error_code>> {
            start_diag(diag, "PUT", key, self->root);
            if (auto ec = check_key(key, diag)) co_return std::tuple{ec};
            const fs::path p = self->root / key;
            std::error_code fec;
            fs::create_directories(p.parent_path(), fec);
            if (fec) co_return std::tuple{errno_error(diag, "cannot create folder", p.parent_path(), fec.value())};
            thread_local std::mt19937_64 rng{std::random_device{}()};
            const fs::path tmp = p.string() + ".tmp-" + std::to_string(rng());
            int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd < 0) co_return std::tuple{errno_error(diag, "cannot create", tmp, errno)};
            std::size_t done = 0;
            while (done < body.size()) {
                ssize_t n = ::write(fd, body.data() + done, body.size() - done);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) {
                    int err = errno;
                    ::close(fd);
                    ::unlink(tmp.c_str());
                    co_return std::tuple{errno_error(diag, "cannot write", tmp, err)};
                }
                done += static_cast<std::size_t>(n);
            }
            ::close(fd);
            if (::rename(tmp.c_str(), p.c_str()) != 0) {
                int err = errno;
                ::unlink(tmp.c_str());
                co_return std::tuple{errno_error(diag, "cannot rename into", p, err)};
            }
            co_return std::tuple{error_code{}};
        },
        std::move(h));
}

}  // namespace fluss_fetch::storage
