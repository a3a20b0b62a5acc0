// The same rules exhibitd applies to what the officer types, checked before any call so the
// reason can be shown beside the field. Each function returns an empty string when the value
// is acceptable, else a short reason for people. Reentrant.
#pragma once

#include <QDate>
#include <QString>
#include <QStringList>

namespace exhibit::kiosk {

inline constexpr int kMaxTextBytes = 128;  // exhibitd: at most 128 bytes (UTF-8)
inline constexpr int kMaxNumbers = 20;

// Case and exhibit reference, the owner's name, a lawful basis, an officer id: 1 to 128
// bytes of UTF-8, no control characters, not only spaces (when required).
QString check_text(const QString& value, bool required = true);
// A PIN: 4 to 12 digits.
QString check_pin(const QString& pin);
// A phone number for the scope: 3 to 20 digits once spaces, dashes, brackets and a leading
// "+" are removed.
QString check_number(const QString& number);
QString clean_number(const QString& number);
// A date range: both optional; from not after to.
QString check_range(const QDate& from, const QDate& to);

}  // namespace exhibit::kiosk
