// The kiosk's link to exhibitd: one D-Bus connection (a given address, or the system bus),
// the generated proxies, and a watch on the name's owner. While exhibitd is away `online`
// is false (the UI shows "kiosk is restarting"); when it is back, `returned()` tells every
// model to fetch its state again. Thread-bound (the GUI thread).
#pragma once

#include <QDBusConnection>
#include <QObject>
#include <QTimer>
#include <memory>

#include "exhibit_proxy.h"

class QDBusServiceWatcher;

namespace exhibit::kiosk {

inline constexpr const char* kService = "org.exhibit.Exhibit1";
inline constexpr const char* kRootPath = "/org/exhibit/Exhibit1";

class BusLink : public QObject {
    Q_OBJECT
    Q_PROPERTY(bool online READ online NOTIFY onlineChanged)
    Q_PROPERTY(bool everOnline READ everOnline NOTIFY onlineChanged)

  public:
    // `address` empty: the system bus.
    explicit BusLink(const QString& address, QObject* parent = nullptr);
    ~BusLink() override;

    bool online() const { return online_; }
    bool everOnline() const { return ever_online_; }
    const QDBusConnection& connection() const { return connection_; }
    OrgExhibitExhibit1ManagerInterface& manager() { return *manager_; }
    // A proxy for a session object.
    std::unique_ptr<OrgExhibitExhibit1SessionInterface> session(const QString& path) const;

    // Subscribes `receiver`'s `slot` to PropertiesChanged of every object of exhibitd (the
    // slot takes (QString, QVariantMap, QStringList, QDBusMessage)).
    bool watch_properties(QObject* receiver, const char* slot) const;

  signals:
    void onlineChanged();
    void returned();  // exhibitd (re)appeared: fetch state again
    void lost();      // exhibitd went away

  private:
    void set_online(bool on);
    void check_owner();

    QDBusConnection connection_;
    std::unique_ptr<OrgExhibitExhibit1ManagerInterface> manager_;
    QDBusServiceWatcher* watcher_ = nullptr;
    QTimer retry_;  // while the bus itself is unreachable
    bool online_ = false;
    bool ever_online_ = false;
    QString address_;
};

}  // namespace exhibit::kiosk
