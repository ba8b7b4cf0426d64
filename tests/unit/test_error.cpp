#include <fluss_fetch/error.hpp>

#include <boost/asio/error.hpp>
#include <gtest/gtest.h>

using fluss_fetch::errc;
using fluss_fetch::is_retryable;

TEST(error, category_names_itself_and_every_code_has_a_message) {
    boost::system::error_code ec = errc::no_such_key;
    EXPECT_STREQ(ec.category().name(), "fluss_fetch");
    EXPECT_EQ(ec.message(), "no such key");
    EXPECT_EQ(boost::system::error_code(errc::stall_timeout).message(), "stall timeout: no bytes received");
    EXPECT_EQ(static_cast<int>(errc::internal_bug), 400);
    EXPECT_EQ(boost::system::error_code(errc::internal_bug).message(),
              "unexpected exception inside fluss_fetch (a bug)");
}

TEST(error, a_bug_is_not_retried_and_is_not_a_malformed_response) {
    const boost::system::error_code bug = errc::internal_bug;
    EXPECT_FALSE(is_retryable(bug)) << "retrying a bug only repeats it";
    EXPECT_NE(bug, errc::bad_response);
    EXPECT_NE(bug.message(), boost::system::error_code(errc::bad_response).message());
}

TEST(error, retry_classification_follows_the_spec) {
    for (auto e : {errc::slow_down, errc::service_unavailable, errc::internal_error, errc::request_timeout,
                   errc::too_many_requests, errc::truncated_body, errc::content_range_mismatch,
                   errc::stall_timeout, errc::connect_timeout, errc::first_byte_timeout})
        EXPECT_TRUE(is_retryable(e)) << boost::system::error_code(e).message();
    for (auto e : {errc::no_such_key, errc::no_such_bucket, errc::access_denied, errc::signature_mismatch,
                   errc::bad_request, errc::invalid_range, errc::precondition_failed, errc::file_error,
                   errc::invalid_argument, errc::no_credentials, errc::internal_bug})
        EXPECT_FALSE(is_retryable(e)) << boost::system::error_code(e).message();
    EXPECT_TRUE(is_retryable(boost::asio::error::connection_reset));
    EXPECT_TRUE(is_retryable(boost::asio::error::eof));
    EXPECT_FALSE(is_retryable(boost::asio::error::operation_aborted));
    EXPECT_FALSE(is_retryable(boost::system::error_code{}));
}

TEST(error, diagnostics_line_names_operation_key_status_and_code) {
    fluss_fetch::diagnostics d;
    d.operation = "GET";
    d.bucket = "b";
    d.key = "log/x.log";
    d.http_status = 404;
    d.s3_code = "NoSuchKey";
    d.message = "The specified key does not exist.";
    d.request_id = "R1";
    EXPECT_EQ(d.to_string(errc::no_such_key),
              "GET b/log/x.log: HTTP 404 NoSuchKey: The specified key does not exist. (request id R1)");
    d.clear();
    EXPECT_EQ(d.to_string(errc::stall_timeout), "stall timeout: no bytes received");
}
