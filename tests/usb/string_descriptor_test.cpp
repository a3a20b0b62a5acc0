// USB string descriptors from an untrusted device become safe UTF-8.
#include "drivers/usb/string_descriptor.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace exhibit::usb {
namespace {

std::vector<std::uint8_t> descriptor(std::u16string_view s) {
    std::vector<std::uint8_t> out{static_cast<std::uint8_t>(2 + 2 * s.size()), 0x03};
    for (char16_t c : s) {
        out.push_back(static_cast<std::uint8_t>(c & 0xff));
        out.push_back(static_cast<std::uint8_t>(c >> 8));
    }
    return out;
}

TEST(UsbStringDescriptor, DecodesUtf16ToUtf8) {
    EXPECT_EQ(decode_string_descriptor(descriptor(u"Google")).value(), "Google");
    EXPECT_EQ(decode_string_descriptor(descriptor(u"Ünïcødé фото")).value(), "Ünïcødé фото");
    EXPECT_EQ(decode_string_descriptor(descriptor(u"\U0001F600 phone")).value(), "😀 phone");
    EXPECT_EQ(decode_string_descriptor(descriptor(u"")).value(), "");
}

TEST(UsbStringDescriptor, HostileContentIsNeutralised) {
    std::u16string controls = u"a\nb\tc";
    controls += u'\0';
    controls += u"d\u007f";
    EXPECT_EQ(decode_string_descriptor(descriptor(controls)).value(), "abcd");
    EXPECT_EQ(decode_string_descriptor(descriptor(u"  padded  ")).value(), "padded");
    std::u16string lone{u'x', char16_t(0xd800), u'y', char16_t(0xdc00)};
    EXPECT_EQ(decode_string_descriptor(descriptor(lone)).value(), "x\uFFFDy\uFFFD");
}

TEST(UsbStringDescriptor, BadHeadersAreErrors) {
    EXPECT_FALSE(decode_string_descriptor(std::vector<std::uint8_t>{}));
    EXPECT_FALSE(decode_string_descriptor(std::vector<std::uint8_t>{4, 0x02, 'a', 0}));
    auto r = decode_string_descriptor(std::vector<std::uint8_t>{20, 0x03, 'a', 0});
    ASSERT_FALSE(r) << "claims more bytes than arrived";
    EXPECT_EQ(r.error().code, Errc::protocol);
    // An odd length: the half code unit is ignored, the rest is kept.
    EXPECT_EQ(decode_string_descriptor(std::vector<std::uint8_t>{5, 0x03, 'o', 0, 'k'}).value(),
              "o");
}

TEST(UsbStringDescriptor, FirstLanguage) {
    EXPECT_EQ(first_language(std::vector<std::uint8_t>{4, 0x03, 0x07, 0x04}), 0x0407);
    EXPECT_EQ(first_language(std::vector<std::uint8_t>{2, 0x03}), 0x0409);
    EXPECT_EQ(first_language(std::vector<std::uint8_t>{}), 0x0409);
}

}  // namespace
}  // namespace exhibit::usb
