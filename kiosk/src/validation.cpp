#include "validation.hpp"

#include <QCoreApplication>

namespace exhibit::kiosk {

namespace {
QString tr(const char* text) {
    return QCoreApplication::translate("Validation", text);
}
}  // namespace

QString check_text(const QString& value, bool required) {
    if (value.trimmed().isEmpty())
        return required ? tr("Required.") : QString();
    if (value.toUtf8().size() > kMaxTextBytes)
        return tr("Too long: at most 128 letters.");
    for (QChar c : value)
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            return tr("Contains a character that cannot be stored (a control character).");
    return {};
}

QString check_pin(const QString& pin) {
    if (pin.size() < 4 || pin.size() > 12)
        return tr("A PIN has 4 to 12 digits.");
    for (QChar c : pin)
        if (c < QLatin1Char('0') || c > QLatin1Char('9'))
            return tr("A PIN has digits only.");
    return {};
}

QString clean_number(const QString& number) {
    QString out;
    for (QChar c : number.trimmed()) {
        if (c.isDigit() && c.unicode() < 0x80)
            out += c;
        else if (c == QLatin1Char('+') && out.isEmpty())
            out += c;
        else if (c == QLatin1Char(' ') || c == QLatin1Char('-') || c == QLatin1Char('(') ||
                 c == QLatin1Char(')'))
            continue;
        else
            return {};
    }
    return out;
}

QString check_number(const QString& number) {
    const QString clean = clean_number(number);
    if (clean.isEmpty())
        return tr("Use digits, spaces, dashes, brackets and a leading + only.");
    const auto digits = clean.startsWith(QLatin1Char('+')) ? clean.size() - 1 : clean.size();
    if (digits < 3 || digits > 20)
        return tr("A phone number has 3 to 20 digits.");
    return {};
}

QString check_range(const QDate& from, const QDate& to) {
    if (from.isValid() && to.isValid() && from > to)
        return tr("The first day is after the last day.");
    return {};
}

}  // namespace exhibit::kiosk
