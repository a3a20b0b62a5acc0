// exhibit-verify's S3 parts as pure functions: Signature Version 4 (against the worked example
// in Amazon's S3 documentation), ListObjectsV2 answers, and where the store is. The same code
// against a real Ceph gateway is tests/dfu.
#include "tools/exhibit-verify/s3_protocol.hpp"

#include <gtest/gtest.h>

namespace exhibit::verify {
namespace {

TEST(S3Signature, MatchesAmazonsWorkedExampleOfAGetWithARange) {
    // Amazon's S3 SigV4 example "GET Object": examplebucket/test.txt, Range bytes=0-9,
    // 2013-05-24, us-east-1, with its documented example keys.
    S3Settings s;
    s.region = "us-east-1";
    s.access_key = "AKIAIOSFODNN7EXAMPLE";
    s.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    S3Request r;
    r.host = "examplebucket.s3.amazonaws.com";
    r.path = "/test.txt";
    r.headers = {{"range", "bytes=0-9"}};
    r.amz_date = "20130524T000000Z";
    const auto headers = sign_s3_request(r, s);
    EXPECT_EQ(headers.at("authorization"),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
              "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
              "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    EXPECT_EQ(headers.at("x-amz-date"), "20130524T000000Z");
    EXPECT_EQ(headers.at("x-amz-content-sha256"),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_FALSE(headers.contains("host")) << "libcurl sends Host from the URL";
}

TEST(S3Signature, EncodesAndOrdersTheQueryAsSigned) {
    EXPECT_EQ(canonical_query({{"prefix", "a b/c"}, {"continuation-token", "x+y=="},
                               {"list-type", "2"}}),
              "continuation-token=x%2By%3D%3D&list-type=2&prefix=a%20b%2Fc");
    EXPECT_EQ(uri_encode("/bucket/a b~é", true), "/bucket/a%20b~%C3%A9");
    EXPECT_EQ(uri_encode("/", false), "%2F");
    EXPECT_EQ(amz_date(1369353600), "20130524T000000Z");
}

TEST(S3Listing, ReadsKeysSizesAndTheTokenToGoOn) {
    auto page = parse_s3_listing(
        R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
        R"(<Name>exhibit-dfu</Name><Prefix></Prefix><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>)"
        R"(<Contents><Key>5e10</Key><ETag>&quot;3c-3&quot;</ETag><Size>12000007</Size></Contents>)"
        R"(<Contents><Key>a&amp;b&lt;c&#233;&#x41;.info</Key><Size>0</Size></Contents>)"
        R"(<NextContinuationToken>tok&amp;en</NextContinuationToken><KeyCount>2</KeyCount></ListBucketResult>)");
    ASSERT_TRUE(page) << page.error().message;
    ASSERT_EQ(page->objects.size(), 2u);
    EXPECT_EQ(page->objects[0].key, "5e10");
    EXPECT_EQ(page->objects[0].size, 12000007u);
    EXPECT_EQ(page->objects[1].key, "a&b<c\xc3\xa9" "A.info");
    EXPECT_EQ(page->next_token, "tok&en");

    auto last = parse_s3_listing("<ListBucketResult><IsTruncated>false</IsTruncated>"
                                 "</ListBucketResult>");
    ASSERT_TRUE(last);
    EXPECT_TRUE(last->objects.empty());
    EXPECT_FALSE(last->next_token);
}

TEST(S3Listing, RefusesWhatIsNotOneWithWhatIsWrong) {
    auto message = [](std::string_view xml) {
        auto r = parse_s3_listing(xml);
        EXPECT_FALSE(r) << xml;
        return r ? std::string() : r.error().message;
    };
    EXPECT_EQ(message("<Error><Code>AccessDenied</Code></Error>"),
              "the answer is not a ListBucketResult");
    EXPECT_EQ(message("<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>"),
              "the listing has an object without a key or a size");
    EXPECT_EQ(message("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents>"
                      "</ListBucketResult>"),
              "the listing has an object whose size is not a number");
    EXPECT_EQ(message("<ListBucketResult><Contents><Key>k</Key><Size>1</Size>"
                      "</ListBucketResult>"),
              "the listing's <Contents> does not close");
    EXPECT_EQ(message("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"),
              "the listing is truncated but gives no continuation token");
    EXPECT_EQ(message("<ListBucketResult><Contents><Key>a&bogus;</Key><Size>1</Size></Contents>"
                      "</ListBucketResult>"),
              "the listing has an entity that is not XML's");
    EXPECT_EQ(message("<ListBucketResult><Contents><Key>a&#0;</Key><Size>1</Size></Contents>"
                      "</ListBucketResult>"),
              "the listing has a character reference that is not one");
    EXPECT_EQ(message("<ListBucketResult><Contents><Key>a&amp</Key><Size>1</Size></Contents>"
                      "</ListBucketResult>"),
              "the listing has an entity that does not close");
    EXPECT_EQ(message("<ListBucketResult><Contents><Key>a</Key><Key>b</Key><Size>1</Size>"
                      "</Contents></ListBucketResult>"),
              "the listing has more than one <Key>");
}

TEST(S3Errors, SummariseTheStoresErrorDocument) {
    EXPECT_EQ(s3_error_summary(R"(<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code>)"
                               R"(<Message></Message><RequestId>tx0</RequestId></Error>)"),
              "SignatureDoesNotMatch");
    EXPECT_EQ(s3_error_summary("<Error><Code>NoSuchKey</Code><Message>gone\x1b[31m</Message>"
                               "</Error>"),
              "NoSuchKey: gone[31m");
    EXPECT_EQ(s3_error_summary("plain text"), "");
}

TEST(S3Settings, ComeFromTheEnvironmentAndTheDfuServersFile) {
    auto values = parse_env_lines(
        "# the DFU's store\nS3_ENDPOINT=http://127.0.0.1:7480/\n S3_BUCKET = exhibit-dfu \n\n"
        "AWS_ACCESS_KEY_ID=AK\r\nAWS_SECRET_ACCESS_KEY=se=cret\nnot a line\n");
    auto s = s3_settings(values);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->endpoint, "http://127.0.0.1:7480");
    EXPECT_EQ(s->region, "default");
    EXPECT_EQ(s->access_key, "AK");
    EXPECT_EQ(s->secret_key, "se=cret");
    values.erase("AWS_SECRET_ACCESS_KEY");
    EXPECT_EQ(s3_settings(values).error().message,
              "AWS_SECRET_ACCESS_KEY is not set (in the environment or --s3-env's file)");
    values["AWS_SECRET_ACCESS_KEY"] = "x";
    values["S3_ENDPOINT"] = "ftp://x";
    EXPECT_FALSE(s3_settings(values));
}

TEST(S3Locations, NameABucketAndAPrefix) {
    auto loc = parse_s3_url("s3://exhibit-dfu/force-a/");
    ASSERT_TRUE(loc);
    EXPECT_EQ(loc->bucket, "exhibit-dfu");
    EXPECT_EQ(loc->prefix, "force-a/");
    EXPECT_EQ(parse_s3_url("s3://exhibit-dfu")->prefix, "");
    EXPECT_FALSE(parse_s3_url("s3://Bad_Bucket"));
    EXPECT_FALSE(parse_s3_url("s3://ab"));
    EXPECT_FALSE(parse_s3_url("/srv/dfu"));
    EXPECT_FALSE(is_s3_url("/srv/dfu"));
}

}  // namespace
}  // namespace exhibit::verify
