#include "kiosk_config.hpp"

#include <QFileInfo>
#include <QSettings>

namespace exhibit::kiosk {

KioskConfig KioskConfig::load(const QString& path, QString* problem) {
    KioskConfig c;
    if (path.isEmpty() || !QFileInfo::exists(path))
        return c;
    QSettings s(path, QSettings::IniFormat);
    s.beginGroup(QStringLiteral("kiosk"));
    bool ok = true;
    const int idle = s.value(QStringLiteral("idle_seconds"), c.idle_seconds_).toInt(&ok);
    if (ok && idle >= 1 && idle <= 3600)
        c.idle_seconds_ = idle;
    else if (problem)
        *problem = QStringLiteral("%1: [kiosk] idle_seconds must be 1 to 3600").arg(path);
    c.printer_ = s.value(QStringLiteral("printer"), c.printer_).toString().trimmed();
    c.lp_command_ = s.value(QStringLiteral("lp_command"), c.lp_command_).toString().trimmed();
    c.receipt_folder_ = s.value(QStringLiteral("receipt_folder"), c.receipt_folder_).toString();
    c.contact_ = s.value(QStringLiteral("contact"), c.contact_).toString();
    c.force_name_ = s.value(QStringLiteral("force_name"), c.force_name_).toString();
    return c;
}

}  // namespace exhibit::kiosk
