// tus 1.0 as pure functions: headers, capabilities, metadata, Location, statuses, backoff.
#include "daemon/upload/tus_protocol.hpp"
#include "daemon/upload/tus_client.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace exhibit::upload {
namespace {

using namespace std::chrono_literals;

Headers headers(std::initializer_list<std::string_view> lines) {
    Headers h;
    for (auto l : lines)
        h.add_line(l);
    return h;
}

TEST(TusHeaders, NamesAreCaseInsensitiveAndInterimResponsesAreForgotten) {
    auto h = headers({"HTTP/1.1 100 Continue\r\n", "X-Old: 1\r\n", "HTTP/1.1 204 \r\n",
                      "upload-OFFSET:  42 \r\n", "Tus-Extension: a\r\n", "tus-extension: b\r\n"});
    EXPECT_FALSE(h.get("x-old"));
    EXPECT_EQ(h.get("Upload-Offset"), "42");
    EXPECT_EQ(h.get("TUS-EXTENSION"), "a, b");
    EXPECT_FALSE(h.add_line("garbage without colon"));
}

TEST(TusCapabilities, ParsesWhatTusServerOffers) {
    auto caps = parse_capabilities(
        204, headers({"Tus-Version: 1.0.0\r\n",
                      "Tus-Extension: creation,creation-with-upload,termination,checksum\r\n",
                      "Tus-Checksum-Algorithm: md5, SHA256\r\n", "Tus-Max-Size: 1073741824\r\n"}));
    ASSERT_TRUE(caps) << caps.error().message;
    EXPECT_TRUE(caps->has_extension("creation-with-upload"));
    EXPECT_TRUE(caps->offers_sha256());
    EXPECT_EQ(caps->max_size, 1073741824u);
}

TEST(TusCapabilities, RefusesWhatIsNotATus1Server) {
    EXPECT_FALSE(parse_capabilities(404, headers({"Tus-Version: 1.0.0\r\n"})));
    EXPECT_FALSE(parse_capabilities(204, headers({})));
    EXPECT_EQ(
        parse_capabilities(204, headers({"Tus-Version: 0.2.2\r\n", "Tus-Extension: creation\r\n"}))
            .error()
            .code,
        Errc::unsupported);
    EXPECT_FALSE(parse_capabilities(204, headers({"Tus-Version: 1.0.0\r\n"})))
        << "creation is required";
    EXPECT_FALSE(
        parse_capabilities(204, headers({"Tus-Version: 1.0.0\r\n", "Tus-Extension: creation\r\n",
                                         "Tus-Max-Size: -1\r\n"})));
    auto no_sha = parse_capabilities(
        204, headers({"Tus-Version: 1.0.0\r\n", "Tus-Extension: creation,checksum\r\n",
                      "Tus-Checksum-Algorithm: md5\r\n"}));
    ASSERT_TRUE(no_sha);
    EXPECT_FALSE(no_sha->offers_sha256());
}

TEST(TusCapabilities, ReadsTheDfuStoresReceiptsAndSmallestChunk) {
    auto with = [](const std::vector<std::string>& more) {
        auto h = headers({"Tus-Version: 1.0.0\r\n", "Tus-Extension: creation\r\n"});
        for (const auto& line : more)
            h.add_line(line);
        return parse_capabilities(204, h);
    };
    auto plain = with({});
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->receipts);
    EXPECT_FALSE(plain->min_chunk_size);

    auto dfu = with({"Exhibit-Receipt: exhibit-dfu-receipt/1\r\n",
                     "Exhibit-Min-Chunk-Size: 5242880\r\n"});
    ASSERT_TRUE(dfu) << dfu.error().message;
    EXPECT_TRUE(dfu->receipts);
    EXPECT_EQ(dfu->min_chunk_size, 5242880u);

    auto other = with({"Exhibit-Receipt: exhibit-dfu-receipt/2\x1b[31m\r\n"});
    ASSERT_TRUE(other);
    EXPECT_FALSE(other->receipts) << "a format the kiosk does not know is not trusted";
    EXPECT_EQ(other->unknown_receipt_format, "exhibit-dfu-receipt/2[31m");

    for (const char* bad : {"0", "-1", "5 MiB", "1073741825", "99999999999999999999999"})
        EXPECT_EQ(with({fmt::format("Exhibit-Min-Chunk-Size: {}\r\n", bad)}).error().code,
                  Errc::protocol)
            << bad;
}

TEST(DfuReceipt, ReadsTheFieldsTheKioskChecks) {
    const std::string hash(64, 'a');
    auto r = parse_dfu_receipt(
        R"({"format":"exhibit-dfu-receipt/1","upload_id":"0123","sha256":")" + hash +
        R"(","size":42,"verdict":"matches","verified_at":"2026-12-07T17:44:24.964Z","metadata":{}})");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->upload_id, "0123");
    EXPECT_EQ(r->sha256, hash);
    EXPECT_EQ(r->size, 42u);
    EXPECT_EQ(r->verdict, "matches");
    EXPECT_EQ(r->verified_at, "2026-12-07T17:44:24.964Z");
}

TEST(DfuReceipt, RefusesWhatIsNotOneWithWhatIsWrong) {
    const std::string hash(64, 'a');
    auto with = [&](const std::string& format, const std::string& sha, const std::string& size) {
        return parse_dfu_receipt(R"({"format":")" + format + R"(","upload_id":"1","sha256":")" +
                                 sha + R"(","size":)" + size +
                                 R"(,"verdict":"matches","verified_at":"t"})");
    };
    auto message = [](const Result<DfuReceipt>& r) {
        EXPECT_FALSE(r);
        if (r)
            return std::string();
        EXPECT_EQ(r.error().code, Errc::protocol);
        return r.error().message;
    };
    EXPECT_TRUE(with("exhibit-dfu-receipt/1", hash, "0"));
    EXPECT_EQ(message(parse_dfu_receipt("not json")), "the receipt is not a JSON object");
    EXPECT_EQ(message(parse_dfu_receipt("[1]")), "the receipt is not a JSON object");
    EXPECT_EQ(message(with("exhibit-dfu-receipt/2", hash, "1")),
              "the receipt's format is \"exhibit-dfu-receipt/2\", not exhibit-dfu-receipt/1");
    EXPECT_EQ(message(with("exhibit-dfu-receipt/1", std::string(64, 'A'), "1")),
              "the receipt's sha256 is not 64 lowercase hex digits");
    EXPECT_EQ(message(with("exhibit-dfu-receipt/1", hash + "a", "1")),
              "the receipt's sha256 is not 64 lowercase hex digits");
    for (const char* size : {"-1", "1.5", "\"1\"", "null", "1e3"})
        EXPECT_EQ(message(with("exhibit-dfu-receipt/1", hash, size)),
                  "the receipt has no \"size\" byte count")
            << size;
    EXPECT_EQ(message(parse_dfu_receipt(R"({"format":"exhibit-dfu-receipt/1","upload_id":7})")),
              "the receipt has no \"upload_id\" text");
    EXPECT_EQ(message(parse_dfu_receipt(
                  R"({"format":"exhibit-dfu-receipt/1","upload_id":")" + std::string(300, 'x') +
                  R"(","sha256":")" + hash + R"(","size":1,"verdict":"v","verified_at":"t"})")),
              "the receipt's \"upload_id\" is too long");
}

TEST(DfuReceipt, APendingAnswerGivesItsReasonOrAPlainOne) {
    EXPECT_EQ(pending_receipt_reason(R"({"state":"pending","reason":"3 of 5 bytes are stored"})"),
              "3 of 5 bytes are stored");
    EXPECT_EQ(pending_receipt_reason(R"({"reason":"a\u001b[31mb"})"), "a[31mb");
    EXPECT_EQ(pending_receipt_reason("garbage"), "the store has not settled it yet");
    EXPECT_EQ(pending_receipt_reason(R"({"reason":42})"), "the store has not settled it yet");
}

TEST(TusTransportErrors, AHandshakeCutWithoutAnAlertIsTheLinkNotTheCertificate) {
    UploadOptions o;
    o.client_cert = "/etc/exhibit/kiosk.pem";
    // A server killed or a link reset during the handshake.
    auto cut = transport_error(CURLE_SSL_CONNECT_ERROR, "Recv failure: Connection reset by peer", o);
    EXPECT_EQ(cut.code, Errc::io);
    EXPECT_TRUE(cut.message.starts_with("the connection to the DFU store broke during the TLS "
                                        "handshake"))
        << cut.message;
    EXPECT_EQ(transport_error(CURLE_SSL_CONNECT_ERROR,
                              "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to x:1", o)
                  .code,
              Errc::io);
    // A server that refuses the kiosk's certificate says so with an alert.
    auto refused = transport_error(
        CURLE_SSL_CONNECT_ERROR,
        "OpenSSL/3.0.19: error:0A000418:SSL routines::tlsv1 alert unknown ca", o);
    EXPECT_EQ(refused.code, Errc::crypto);
    EXPECT_NE(refused.message.find("client certificate \"/etc/exhibit/kiosk.pem\""),
              std::string::npos)
        << refused.message;
    EXPECT_EQ(transport_error(CURLE_SSL_CONNECT_ERROR, "something else", o).code, Errc::crypto);
}

TEST(TusNumbers, StrictDecimalOnly) {
    EXPECT_EQ(parse_uint("0").value(), 0u);
    EXPECT_EQ(parse_uint("18446744073709551615").value(), UINT64_MAX);
    for (auto bad : {"", "-1", "+1", " 1", "1 ", "1e3", "0x10", "18446744073709551616", "12a"})
        EXPECT_FALSE(parse_uint(bad)) << bad;
}

TEST(TusMetadata, RoundTripsAnyBytesAndRejectsBadKeys) {
    MetadataPairs pairs = {{"filename", "IMG 0001.jpg"},
                           {"source_path", std::string("/sdcard/\xc3\xa9t\xc3\xa9,x", 14)},
                           {"empty", ""},
                           {"nul", std::string("a\0b", 3)}};
    auto header = encode_metadata(pairs).value();
    EXPECT_NE(header.find(",empty,"), std::string::npos) << "an empty value is the bare key";
    EXPECT_EQ(decode_metadata(header).value(), pairs);
    EXPECT_EQ(encode_metadata({{"filename", "a"}}).value(), "filename YQ==");
    for (auto bad : {"", "has space", "comma,key", "t\xc3\xa9"})
        EXPECT_FALSE(encode_metadata({{bad, "v"}})) << bad;
}

TEST(TusBase64, KnownVectors) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_decode("Zm8=").value(), "fo");
    EXPECT_FALSE(base64_decode("Zm8"));
    EXPECT_FALSE(base64_decode("Z!8="));
}

TEST(TusChecksum, HeaderIsAlgorithmAndBase64Digest) {
    EXPECT_EQ(checksum_header_value(Sha256::of("abc")),
              "sha256 ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

TEST(TusLocation, StaysOnTheEndpointsOrigin) {
    const std::string ep = "https://dfu.example:8443/files/";
    EXPECT_EQ(resolve_location(ep, "https://dfu.example:8443/files/abc").value(),
              "https://dfu.example:8443/files/abc");
    EXPECT_EQ(resolve_location(ep, "/files/abc").value(), "https://dfu.example:8443/files/abc");
    EXPECT_EQ(resolve_location(ep, "abc").value(), "https://dfu.example:8443/files/abc");
    EXPECT_EQ(resolve_location(ep, "http://dfu.example:8443/files/abc").value(),
              "https://dfu.example:8443/files/abc")
        << "a TLS-unaware server's http:// name for the same host and port";
    EXPECT_EQ(
        resolve_location("https://dfu.example/files/", "https://DFU.example:443/files/x").value(),
        "https://DFU.example:443/files/x");
    for (auto bad : {"https://evil.example:8443/files/abc", "https://dfu.example:9999/files/abc",
                     "http://dfu.example/files/abc", "ftp://dfu.example:8443/x", ""})
        EXPECT_FALSE(resolve_location(ep, bad)) << bad;
}

TEST(TusLocation, AnEarlierUploadIsOnTheEndpointOnlyOnItsOrigin) {
    const std::string ep = "https://dfu.example/files/";
    for (auto same : {"https://dfu.example/files/abc", "https://DFU.example:443/other/abc",
                      "https://dfu.example/"})
        EXPECT_TRUE(on_endpoint_origin(ep, same)) << same;
    for (auto other : {"https://dfu-new.example/files/abc", "https://dfu.example:8443/files/abc",
                       "http://dfu.example/files/abc", "/files/abc", "", "not a url"})
        EXPECT_FALSE(on_endpoint_origin(ep, other)) << other;
}

TEST(TusStatus, EachStatusGetsItsAnswer) {
    EXPECT_EQ(classify_status(204), Disposition::success);
    EXPECT_EQ(classify_status(201), Disposition::success);
    EXPECT_EQ(classify_status(409), Disposition::conflict);
    EXPECT_EQ(classify_status(404), Disposition::gone);
    EXPECT_EQ(classify_status(410), Disposition::gone);
    for (long s : {423L, 429L, 500L, 502L, 503L, 504L})
        EXPECT_EQ(classify_status(s), Disposition::transient) << s;
    EXPECT_EQ(classify_status(460), Disposition::checksum_mismatch);
    for (long s : {400L, 401L, 403L, 412L, 413L, 415L, 301L})
        EXPECT_EQ(classify_status(s), Disposition::rejected) << s;
}

TEST(TusBackoff, DoublesWithJitterUpToTheCap) {
    EXPECT_EQ(backoff_delay(1, 1000ms, 60s, 0.0), 500ms);
    EXPECT_EQ(backoff_delay(1, 1000ms, 60s, 0.999999), 999ms);
    EXPECT_EQ(backoff_delay(2, 1000ms, 60s, 0.0), 1000ms);
    EXPECT_EQ(backoff_delay(4, 1000ms, 60s, 0.0), 4000ms);
    EXPECT_EQ(backoff_delay(30, 1000ms, 60s, 0.0), 30s) << "capped";
    EXPECT_LE(backoff_delay(1000, 1000ms, 60s, 1.0), 60s);
    for (int a = 1; a < 20; ++a)
        EXPECT_LE(backoff_delay(a, 1000ms, 60s, 0.5), backoff_delay(a + 1, 1000ms, 60s, 0.5));
}

TEST(TusUrls, LoopbackAndScheme) {
    EXPECT_TRUE(is_loopback_url("http://127.0.0.1:8080/files/"));
    EXPECT_TRUE(is_loopback_url("http://127.1.2.3/"));
    EXPECT_TRUE(is_loopback_url("http://localhost/"));
    EXPECT_TRUE(is_loopback_url("http://[::1]:80/"));
    EXPECT_FALSE(is_loopback_url("http://127.0.0.1.evil.example/"));
    EXPECT_FALSE(is_loopback_url("http://10.0.0.1/"));
    EXPECT_FALSE(is_loopback_url("not a url"));
    EXPECT_EQ(url_scheme("HTTPS://x/"), "https");
}

TEST(TusExcerpt, PrintableAndBounded) {
    EXPECT_EQ(printable_excerpt("bad\r\noffset\x01"), "bad  offset");
    EXPECT_EQ(printable_excerpt(std::string(500, 'a')).size(), 200u);
    EXPECT_EQ(printable_excerpt("ab\xc3\xa9", 3), "ab") << "never half a UTF-8 character";
    EXPECT_EQ(printable_excerpt("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb1"),
              "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb1")
        << "valid UTF-8 is kept";
    EXPECT_EQ(
        printable_excerpt("a\xff\xfe b \xc3( \xe0\x80\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xc3"),
        "a?? b ?( ??? ??? ???? ?")
        << "stray, overlong, surrogate, too large and truncated sequences become '?'";
}

// Header values from a server go into error messages, the catalog's JSON and D-Bus strings,
// which all need valid UTF-8: they are cleaned as they arrive.
TEST(TusHeaders, ValuesAreKeptAsValidUtf8WithoutControls) {
    Headers h;
    ASSERT_TRUE(h.add_line("Upload-Offset: 12\xff\x1b[2J\r\n"));
    EXPECT_EQ(h.get("upload-offset").value(), "12?[2J");
    EXPECT_FALSE(parse_uint(*h.get("upload-offset")));
    ASSERT_TRUE(h.add_line("X-Long: " + std::string(100'000, 'a') + "\r\n"));
    EXPECT_LE(h.get("x-long")->size(), 8192u);
}

}  // namespace
}  // namespace exhibit::upload
