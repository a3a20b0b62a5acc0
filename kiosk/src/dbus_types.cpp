#include "dbus_types.hpp"

#include <QDBusMetaType>

QDBusArgument& operator<<(QDBusArgument& arg, const PreviewCount& c) {
    arg.beginStructure();
    arg << c.count << c.bytes;
    arg.endStructure();
    return arg;
}

const QDBusArgument& operator>>(const QDBusArgument& arg, PreviewCount& c) {
    arg.beginStructure();
    arg >> c.count >> c.bytes;
    arg.endStructure();
    return arg;
}

QDBusArgument& operator<<(QDBusArgument& arg, const OfficerEntry& o) {
    arg.beginStructure();
    arg << o.id << o.name << o.locked_until_ms;
    arg.endStructure();
    return arg;
}

const QDBusArgument& operator>>(const QDBusArgument& arg, OfficerEntry& o) {
    arg.beginStructure();
    arg >> o.id >> o.name >> o.locked_until_ms;
    arg.endStructure();
    return arg;
}

namespace exhibit::kiosk {

void register_dbus_types() {
    qDBusRegisterMetaType<PreviewCount>();
    qDBusRegisterMetaType<PreviewCounts>();
    qDBusRegisterMetaType<OfficerEntry>();
    qDBusRegisterMetaType<OfficerList>();
    qDBusRegisterMetaType<InterfaceMap>();
    qDBusRegisterMetaType<ManagedObjects>();
}

}  // namespace exhibit::kiosk
