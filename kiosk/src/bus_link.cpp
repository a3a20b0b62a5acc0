#include "bus_link.hpp"

#include <QDBusConnectionInterface>
#include <QDBusServiceWatcher>

#include "dbus_types.hpp"

namespace exhibit::kiosk {

namespace {
QDBusConnection open_bus(const QString& address) {
    if (address.isEmpty())
        return QDBusConnection::systemBus();
    static int serial = 0;  // a fresh connection for every link (tests make several)
    return QDBusConnection::connectToBus(address, QStringLiteral("exhibit-kiosk-%1").arg(++serial));
}
}  // namespace

BusLink::BusLink(const QString& address, QObject* parent)
    : QObject(parent), connection_(open_bus(address)), address_(address) {
    register_dbus_types();
    manager_ = std::make_unique<OrgExhibitExhibit1ManagerInterface>(
        QString::fromLatin1(kService), QString::fromLatin1(kRootPath), connection_);
    manager_->setTimeout(30'000);
    watcher_ = new QDBusServiceWatcher(QString::fromLatin1(kService), connection_,
                                       QDBusServiceWatcher::WatchForOwnerChange, this);
    connect(watcher_, &QDBusServiceWatcher::serviceOwnerChanged, this,
            [this](const QString&, const QString&, const QString& new_owner) {
                set_online(!new_owner.isEmpty());
            });
    retry_.setInterval(1000);
    connect(&retry_, &QTimer::timeout, this, &BusLink::check_owner);
    QTimer::singleShot(0, this, &BusLink::check_owner);
}

BusLink::~BusLink() {
    if (!address_.isEmpty())
        QDBusConnection::disconnectFromBus(connection_.name());
}

void BusLink::check_owner() {
    if (!connection_.isConnected()) {
        retry_.start();  // the bus itself is not there (yet): try again each second
        set_online(false);
        if (!address_.isEmpty())
            QDBusConnection::disconnectFromBus(connection_.name());
        connection_ = open_bus(address_);
        if (!connection_.isConnected())
            return;
        manager_ = std::make_unique<OrgExhibitExhibit1ManagerInterface>(
            QString::fromLatin1(kService), QString::fromLatin1(kRootPath), connection_);
        manager_->setTimeout(30'000);
        watcher_->setConnection(connection_);
    }
    retry_.stop();
    auto* iface = connection_.interface();
    set_online(iface && iface->isServiceRegistered(QString::fromLatin1(kService)).value());
}

void BusLink::set_online(bool on) {
    if (on == online_)
        return;
    online_ = on;
    if (on)
        ever_online_ = true;
    emit onlineChanged();
    if (on)
        emit returned();
    else
        emit lost();
}

std::unique_ptr<OrgExhibitExhibit1SessionInterface> BusLink::session(const QString& path) const {
    auto s = std::make_unique<OrgExhibitExhibit1SessionInterface>(QString::fromLatin1(kService),
                                                                  path, connection_);
    s->setTimeout(30'000);
    return s;
}

bool BusLink::watch_properties(QObject* receiver, const char* slot) const {
    QDBusConnection c = connection_;
    return c.connect(QString::fromLatin1(kService), QString(),
                     QStringLiteral("org.freedesktop.DBus.Properties"),
                     QStringLiteral("PropertiesChanged"), receiver, slot);
}

}  // namespace exhibit::kiosk
