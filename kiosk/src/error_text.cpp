#include "error_text.hpp"

#include <QCoreApplication>
#include <QRegularExpression>

namespace exhibit::kiosk {

namespace {
QString tr(const char* text) {
    return QCoreApplication::translate("ErrorText", text);
}

// exhibitd's sentence without a trailing full stop, or a dash when there is none.
QString detail(const QString& message) {
    QString m = message.trimmed();
    while (m.endsWith(QLatin1Char('.')))
        m.chop(1);
    return m;
}
}  // namespace

QString error_sentence(const QString& name, const QString& message) {
    const QString prefix = QStringLiteral("org.exhibit.Exhibit1.Error.");
    const QString code = name.startsWith(prefix) ? name.mid(prefix.size()) : name;
    if (code == QLatin1String("WrongPin")) {
        static const QRegularExpression left(QStringLiteral("(\\d+) tr(y|ies) left"));
        auto m = left.match(message);
        if (m.hasMatch())
            return tr("The officer number or PIN is not right. Check both and try again. "
                      "Tries left before this number is locked for 15 minutes: %1.")
                .arg(m.captured(1));
        return tr("The officer number or PIN is not right. Check both and try again.");
    }
    if (code == QLatin1String("Locked")) {
        static const QRegularExpression until(QStringLiteral("until (\\d{1,2}:\\d{2})"));
        auto m = until.match(message);
        if (m.hasMatch())
            return tr("This officer number is locked after 5 wrong PINs. Try again after %1, "
                      "or ask another officer to sign in.")
                .arg(m.captured(1));
        return tr(
            "This officer number is locked after 5 wrong PINs. Try again in 15 minutes, "
            "or ask another officer to sign in.");
    }
    if (code == QLatin1String("InvalidArgument"))
        return tr("The kiosk did not accept what was entered (%1). Check it and try again.")
            .arg(detail(message));
    if (code == QLatin1String("NotFound"))
        return tr(
            "The phone or record is no longer there. Plug the phone in again and "
            "choose it on the phone screen.");
    if (code == QLatin1String("Busy"))
        return tr("The phone is busy with another task. Wait a moment, then try again.");
    if (code == QLatin1String("Unsupported"))  // a phone it cannot read, or no upload channel
        return tr("This kiosk cannot do that (%1). Ask the Digital Forensics Unit what to do.")
            .arg(detail(message));
    if (code == QLatin1String("NotAuthorized") ||
        name == QLatin1String("org.freedesktop.DBus.Error.AccessDenied"))
        return tr("This kiosk is not allowed to do that. Call the kiosk administrator.");
    if (code == QLatin1String("LowDisk"))
        return tr(
            "The kiosk is nearly full and cannot copy now. Evidence already copied is "
            "safe. Call the kiosk administrator.");
    if (name == QLatin1String("org.freedesktop.DBus.Error.ServiceUnknown") ||
        name == QLatin1String("org.freedesktop.DBus.Error.NameHasNoOwner") ||
        name == QLatin1String("org.freedesktop.DBus.Error.NoReply") ||
        name == QLatin1String("org.freedesktop.DBus.Error.Timeout") ||
        name == QLatin1String("org.freedesktop.DBus.Error.Disconnected") ||
        name == QLatin1String("org.freedesktop.DBus.Error.NoServer"))
        return tr(
            "The kiosk service is not answering. Wait a moment: the kiosk reconnects "
            "by itself.");
    if (name == QLatin1String("org.freedesktop.DBus.Error.UnknownMethod") ||
        name == QLatin1String("org.freedesktop.DBus.Error.UnknownObject"))
        return tr(
            "The kiosk's service does not offer this (it is older than this screen). "
            "Call the kiosk administrator.");
    if (code == QLatin1String("Failed") && !detail(message).isEmpty())
        return tr("That did not work (%1). Try again; if it happens again, call the kiosk "
                  "administrator.")
            .arg(detail(message));
    return tr(
        "That did not work. Try again; if it happens again, call the kiosk "
        "administrator.");
}

}  // namespace exhibit::kiosk
