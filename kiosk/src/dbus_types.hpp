// The Qt types of the D-Bus signatures the generated proxies cannot map by themselves:
// Preview's a{s(tt)} (PreviewCounts) and the ObjectManager's a{oa{sa{sv}}}. Registered once
// by register_dbus_types() before the first call. Thread-safe (plain values).
#pragma once

#include <QDBusArgument>
#include <QDBusObjectPath>
#include <QMap>
#include <QMetaType>
#include <QString>
#include <QVariantMap>

struct PreviewCount {
    qulonglong count = 0;
    qulonglong bytes = 0;
};
using PreviewCounts = QMap<QString, PreviewCount>;
// Officers.List's a(ssx): id, name, locked until (ms since the epoch, 0 when not locked).
struct OfficerEntry {
    QString id, name;
    qint64 locked_until_ms = 0;
};
using OfficerList = QList<OfficerEntry>;
using InterfaceMap = QMap<QString, QVariantMap>;
using ManagedObjects = QMap<QDBusObjectPath, InterfaceMap>;

Q_DECLARE_METATYPE(PreviewCount)
Q_DECLARE_METATYPE(PreviewCounts)
Q_DECLARE_METATYPE(OfficerEntry)
Q_DECLARE_METATYPE(OfficerList)
Q_DECLARE_METATYPE(InterfaceMap)
Q_DECLARE_METATYPE(ManagedObjects)

QDBusArgument& operator<<(QDBusArgument& arg, const PreviewCount& c);
const QDBusArgument& operator>>(const QDBusArgument& arg, PreviewCount& c);
QDBusArgument& operator<<(QDBusArgument& arg, const OfficerEntry& o);
const QDBusArgument& operator>>(const QDBusArgument& arg, OfficerEntry& o);

namespace exhibit::kiosk {
void register_dbus_types();
}
