// Settings the upload channel refuses, each with the key named.
#include "daemon/upload/upload_options.hpp"

#include <gtest/gtest.h>

namespace exhibit::upload {
namespace {

using namespace std::chrono_literals;

UploadOptions good() {
    UploadOptions o;
    o.endpoint = "https://dfu.example.org/files/";
    o.ca_file = "/etc/exhibit/dfu-ca.pem";
    o.client_cert = "/etc/exhibit/kiosk.pem";
    o.client_key = "/etc/exhibit/kiosk.key";
    return o;
}

void expect_refused(const UploadOptions& o, const std::string& words) {
    auto s = validate(o);
    ASSERT_FALSE(s) << words;
    EXPECT_EQ(s.error().code, Errc::config);
    EXPECT_NE(s.error().message.find(words), std::string::npos) << s.error().message;
}

TEST(UploadOptions, DefaultsFollowTheIssue) {
    UploadOptions o;
    EXPECT_EQ(o.chunk_size, 8u << 20);
    EXPECT_EQ(o.concurrency, 2u);
    EXPECT_EQ(o.window_start, 22h);
    EXPECT_EQ(o.window_end, 6h);
    EXPECT_EQ(o.retention, std::chrono::days(7));
    EXPECT_FALSE(o.allow_insecure_loopback);
    EXPECT_TRUE(validate(good()));
}

TEST(UploadOptions, PlainHttpOnlyOnLoopbackAndOnlyWhenAllowed) {
    auto o = good();
    o.endpoint = "http://dfu.example.org/files/";
    o.allow_insecure_loopback = true;
    expect_refused(o, "only https");
    o.endpoint = "http://127.0.0.1:1080/files/";
    o.allow_insecure_loopback = false;
    expect_refused(o, "allow_insecure_loopback");
    o.allow_insecure_loopback = true;
    EXPECT_TRUE(validate(o));
    o.endpoint = "ftp://127.0.0.1/";
    expect_refused(o, "https");
}

TEST(UploadOptions, HttpsNeedsTheCaAndTheClientCertificate) {
    auto o = good();
    o.ca_file.clear();
    expect_refused(o, "upload.ca_file");
    o = good();
    o.client_key.clear();
    expect_refused(o, "mutual TLS");
    o = good();
    o.endpoint.clear();
    expect_refused(o, "upload.endpoint");
}

TEST(UploadOptions, RangesAndPins) {
    auto o = good();
    o.chunk_size = 1000;
    expect_refused(o, "chunk_size");
    o = good();
    o.max_chunk_size = o.chunk_size - 1;
    expect_refused(o, "upload.max_chunk_size");
    o = good();
    o.max_chunk_size = kMaxChunkSize + 1;
    expect_refused(o, "upload.max_chunk_size");
    o = good();
    o.max_chunk_size = o.chunk_size;
    EXPECT_TRUE(validate(o)) << "fixed chunks";
    o = good();
    o.concurrency = 0;
    expect_refused(o, "concurrency");
    o = good();
    o.window_end = 24h;
    expect_refused(o, "window_end");
    o = good();
    o.pinned_public_key = "sha256//tooshort";
    expect_refused(o, "pinned_public_key");
    o.pinned_public_key =
        "sha256//" + std::string(43, 'A') + "=;sha256//" + std::string(43, 'B') + "=";
    EXPECT_TRUE(validate(o));
    o = good();
    o.retry_max = 1ms;
    expect_refused(o, "retry");
}

}  // namespace
}  // namespace exhibit::upload
