#include "format.hpp"

#include <QCoreApplication>
#include <QDateTime>

namespace exhibit::kiosk {

namespace {
QString tr(const char* text) {
    return QCoreApplication::translate("Format", text);
}
}  // namespace

QString format_bytes(qulonglong bytes) {
    if (bytes < 1024)
        return tr("%1 bytes").arg(bytes);
    const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = -1;
    while (v >= 1024.0 && u < 3) {
        v /= 1024.0;
        ++u;
    }
    return QStringLiteral("%1 %2").arg(v, 0, 'f', v < 10 ? 1 : 0).arg(QLatin1String(units[u]));
}

QString format_duration(qint64 s) {
    if (s < 0)
        return QStringLiteral("-");
    if (s >= 3600)
        return tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
    if (s >= 60)
        return tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return tr("%1 s").arg(s);
}

QString format_time_ms(qint64 ms) {
    if (ms <= 0)
        return QStringLiteral("-");
    return QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("d MMM yyyy HH:mm"));
}

QString category_name(const QString& c) {
    if (c == QLatin1String("photos"))
        return tr("Photos");
    if (c == QLatin1String("videos"))
        return tr("Videos");
    if (c == QLatin1String("audio"))
        return tr("Audio");
    if (c == QLatin1String("documents"))
        return tr("Documents");
    if (c == QLatin1String("messages"))
        return tr("Messages");
    if (c == QLatin1String("call_log"))
        return tr("Call log");
    if (c == QLatin1String("contacts"))
        return tr("Contacts");
    if (c == QLatin1String("apps"))
        return tr("Installed apps");
    if (c == QLatin1String("device_info"))
        return tr("Phone details");
    if (c == QLatin1String("cctv_export"))
        return tr("CCTV exports");
    if (c == QLatin1String("disk_image"))
        return tr("Whole disk");
    return c;
}

QString category_count(const QString& c, qulonglong n) {
    const bool one = n == 1;
    if (c == QLatin1String("photos"))
        return one ? tr("1 photo") : tr("%1 photos").arg(n);
    if (c == QLatin1String("videos"))
        return one ? tr("1 video") : tr("%1 videos").arg(n);
    if (c == QLatin1String("audio"))
        return one ? tr("1 recording") : tr("%1 recordings").arg(n);
    if (c == QLatin1String("documents"))
        return one ? tr("1 document") : tr("%1 documents").arg(n);
    if (c == QLatin1String("messages"))
        return one ? tr("1 message") : tr("%1 messages").arg(n);
    if (c == QLatin1String("call_log"))
        return one ? tr("1 call") : tr("%1 calls").arg(n);
    if (c == QLatin1String("contacts"))
        return one ? tr("1 contact entry") : tr("%1 contact entries").arg(n);
    if (c == QLatin1String("apps"))
        return one ? tr("1 app name") : tr("%1 app names").arg(n);
    if (c == QLatin1String("device_info"))
        return tr("the phone's details");
    if (c == QLatin1String("cctv_export"))
        return one ? tr("1 CCTV export file") : tr("%1 CCTV export files").arg(n);
    if (c == QLatin1String("disk_image"))
        return tr("the whole disk");
    return QStringLiteral("%1 %2").arg(n).arg(c);
}

}  // namespace exhibit::kiosk
