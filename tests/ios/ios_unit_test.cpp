// The simulated iPhone's pure parts: the USB serial of a UDID, the trust state machine,
// AFC's header codec, the device key's PKCS#1 export.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "phonesim/ios/afc_server.hpp"
#include "phonesim/ios/device_keys.hpp"
#include "phonesim/ios/ios_scenario.hpp"
#include "phonesim/ios/ios_settings.hpp"
#include "phonesim/ios/trust_book.hpp"

namespace exhibit::phonesim::ios {
namespace {

TEST(UsbSerial, NewStyleUdidLosesItsHyphen) {
    EXPECT_EQ(usb_serial_for_udid("00008101-000A1B2C3D4E5F60"), "00008101000A1B2C3D4E5F60");
    std::string old(40, 'a');
    EXPECT_EQ(usb_serial_for_udid(old), old);
}

TEST(TrustBook, LockedRefusesPairAndSessions) {
    TrustBook book(TrustState::locked);
    EXPECT_EQ(book.pair({"H1", ""}), std::optional<std::string>(kPasswordProtected));
    EXPECT_EQ(book.admit("H1"), std::optional<std::string>(kPasswordProtected));
    book.unlock();
    EXPECT_EQ(book.pair({"H1", ""}), std::optional<std::string>(kDialogPending));
}

TEST(TrustBook, DenyIsAnsweredOnceThenTheDialogShowsAgain) {
    TrustBook book(TrustState::waiting);
    book.deny();
    EXPECT_EQ(book.pair({"H1", ""}), std::optional<std::string>(kUserDenied));
    EXPECT_EQ(book.pair({"H1", ""}), std::optional<std::string>(kDialogPending));
    book.trust();
    EXPECT_EQ(book.pair({"H1", ""}), std::nullopt);
    EXPECT_EQ(book.admit("H1"), std::nullopt);
    EXPECT_EQ(book.admit("H2"), std::optional<std::string>(kInvalidHostId));
    EXPECT_TRUE(book.unpair("H1"));
    EXPECT_FALSE(book.unpair("H1"));
    EXPECT_EQ(book.admit("H1"), std::optional<std::string>(kInvalidHostId));
    // The phone knows no host any more: the next Pair shows "Trust This Computer?" again.
    EXPECT_EQ(book.state(), TrustState::waiting);
    EXPECT_EQ(book.pair({"H1", ""}), std::optional<std::string>(kDialogPending));
}

TEST(TrustBook, TrustStaysWhileAnotherHostIsPaired) {
    TrustBook book(TrustState::trusted);
    EXPECT_EQ(book.pair({"H1", ""}), std::nullopt);
    EXPECT_EQ(book.pair({"H2", ""}), std::nullopt);
    EXPECT_TRUE(book.unpair("H1"));
    EXPECT_EQ(book.state(), TrustState::trusted);
    EXPECT_TRUE(book.unpair("H2"));
    EXPECT_EQ(book.state(), TrustState::waiting);
}

TEST(IosScenario, EveryBehaviourByName) {
    auto h = parse_ios_scenario(nlohmann::json::parse(R"({
      "lying_size": {"path": "DCIM/100APPLE/IMG_0001.JPG", "delta": -100},
      "endless_dir": "DCIM/101APPLE", "endless_step": 50, "stall_after": 12,
      "malformed_lockdown_reply": true, "malformed_afc": "this_beyond_entire",
      "malformed_afc_at": 3, "evil_names_dir": "DCIM/100APPLE"})"));
    ASSERT_TRUE(h) << h.error().describe();
    ASSERT_TRUE(h->lying_size);
    EXPECT_EQ(h->lying_size->path, "DCIM/100APPLE/IMG_0001.JPG");
    EXPECT_EQ(h->lying_size->delta, -100);
    EXPECT_EQ(h->endless_dir, "DCIM/101APPLE");
    EXPECT_EQ(h->endless_step, 50u);
    EXPECT_EQ(h->stall_after, 12u);
    EXPECT_TRUE(h->malformed_lockdown_reply);
    EXPECT_EQ(h->malformed_afc, MalformedAfc::this_beyond_entire);
    EXPECT_EQ(h->malformed_afc_at, 3u);
    EXPECT_EQ(h->evil_names_dir, "DCIM/100APPLE");

    auto none = parse_ios_scenario(nlohmann::json::object());
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->lying_size || none->endless_dir || none->stall_after ||
                 none->evil_names_dir || none->malformed_lockdown_reply);
    EXPECT_EQ(none->malformed_afc, MalformedAfc::none);
}

TEST(IosScenario, MistakesNameTheKey) {
    auto error = [](const char* text) {
        auto h = parse_ios_scenario(nlohmann::json::parse(text));
        return h ? std::string("accepted") : h.error().message;
    };
    EXPECT_EQ(error(R"({"colour": 1})"), "iPhone scenario: unknown key \"colour\"");
    EXPECT_EQ(error(R"({"lying_size": {"path": "a", "size": 1}})"),
              "iPhone scenario: unknown key \"lying_size.size\"");
    EXPECT_EQ(error(R"({"endless_dir": "../etc"})"),
              "iPhone scenario: \"endless_dir\" must be a path below the media folder, without "
              "\"..\"");
    EXPECT_EQ(error(R"({"evil_names_dir": "/DCIM"})").substr(0, 48),
              "iPhone scenario: \"evil_names_dir\" must be a path");
    EXPECT_EQ(error(R"({"stall_after": -1})"),
              "iPhone scenario: \"stall_after\" must be a whole number from 0");
    EXPECT_EQ(error(R"({"malformed_afc": "garbled"})"),
              "iPhone scenario: \"malformed_afc\" must be \"bad_magic\" or "
              "\"this_beyond_entire\"");
    EXPECT_EQ(error(R"({"endless_step": 0})"),
              "iPhone scenario: \"endless_step\" must be a whole number from 1 to 1000000");
    EXPECT_EQ(error(R"([])"), "iPhone scenario: expected a JSON object");
    auto missing = load_ios_scenario("/nonexistent/scenario.json");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST(AfcHeader, RoundTripsAndRejectsBadFraming) {
    afc::Header h{48, 48, 7, afc::op::file_close};
    auto bytes = afc::encode_header(h);
    ASSERT_EQ(bytes.size(), afc::kHeaderSize);
    auto back = afc::decode_header(std::span<const std::byte, afc::kHeaderSize>(bytes.data(), 40));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->packet_num, 7u);
    bytes[7] = std::byte{'X'};
    EXPECT_FALSE(
        afc::decode_header(std::span<const std::byte, afc::kHeaderSize>(bytes.data(), 40)));
    auto longer = afc::encode_header({40, 48, 1, 3});  // this_length > entire_length
    EXPECT_FALSE(
        afc::decode_header(std::span<const std::byte, afc::kHeaderSize>(longer.data(), 40)));
}

TEST(AfcOps, WritesAreRecognised) {
    EXPECT_TRUE(afc::is_write_op(afc::op::file_write));
    EXPECT_TRUE(afc::is_write_op(0x08));  // remove
    EXPECT_TRUE(afc::is_write_op(0x09));  // mkdir
    EXPECT_TRUE(afc::is_write_op(0x18));  // rename
    EXPECT_TRUE(afc::is_write_op(0x1b));  // lock
    EXPECT_FALSE(afc::is_write_op(afc::op::file_read));
    EXPECT_FALSE(afc::is_write_op(afc::op::read_dir));
}

TEST(DeviceKeys, PublicKeyIsPkcs1PemAndForeignCertificatesAreRefused) {
    auto keys = DeviceKeys::generate();
    ASSERT_TRUE(keys) << keys.error().describe();
    EXPECT_TRUE(keys->public_key_pem().starts_with("-----BEGIN RSA PUBLIC KEY-----\n"))
        << keys->public_key_pem();
    EXPECT_FALSE(keys->check_pair_certificates("not a certificate", "nor this"));
}

// A certificate for `subject_key`, signed by `issuer_key`, in PEM (as the host makes them).
std::string certificate_pem(EVP_PKEY* subject_key, EVP_PKEY* issuer_key) {
    X509Ptr cert(X509_new());
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 2);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), subject_key);
    X509_sign(cert.get(), issuer_key, EVP_sha1());
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert.get());
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

TEST(DeviceKeys, PairCertificatesMustCarryTheDeviceKeySignedByTheRoot) {
    auto device = DeviceKeys::generate();
    ASSERT_TRUE(device);
    EvpPkeyPtr root(EVP_RSA_gen(2048));
    EvpPkeyPtr other(EVP_RSA_gen(2048));
    std::string root_cert = certificate_pem(root.get(), root.get());
    EXPECT_TRUE(
        device->check_pair_certificates(certificate_pem(device->key(), root.get()), root_cert));
    // Another key in the device certificate.
    EXPECT_FALSE(
        device->check_pair_certificates(certificate_pem(other.get(), root.get()), root_cert));
    // The device's key, but signed by someone else.
    EXPECT_FALSE(
        device->check_pair_certificates(certificate_pem(device->key(), other.get()), root_cert));
}

}  // namespace
}  // namespace exhibit::phonesim::ios
