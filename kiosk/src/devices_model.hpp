// The phones exhibitd sees, live: GetManagedObjects once, then InterfacesAdded/Removed and
// PropertiesChanged (no polling). One phone is "chosen" (the only one, or the one tapped);
// for it the model gives a plain instruction and a picture for its state. Thread-bound.
#pragma once

#include <QAbstractListModel>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QVariantMap>
#include <optional>
#include <vector>

#include "dbus_types.hpp"

namespace exhibit::kiosk {

class BusLink;

class DevicesModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    Q_PROPERTY(QString chosenPath READ chosen_path NOTIFY chosenChanged)
    Q_PROPERTY(QString chosenName READ chosen_name NOTIFY chosenChanged)
    Q_PROPERTY(QString chosenState READ chosen_state NOTIFY chosenChanged)
    Q_PROPERTY(bool chosenReady READ chosen_ready NOTIFY chosenChanged)
    Q_PROPERTY(bool removed READ removed NOTIFY chosenChanged)
    Q_PROPERTY(QString instruction READ instruction NOTIFY chosenChanged)
    Q_PROPERTY(QString picture READ picture NOTIFY chosenChanged)

  public:
    enum Role {
        PathRole = Qt::UserRole + 1,
        NameRole,
        StateRole,
        DetailRole,
        SerialRole,
        StateTextRole
    };

    explicit DevicesModel(BusLink& link, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    int count() const { return static_cast<int>(devices_.size()); }
    QString chosen_path() const { return chosen_; }
    QString chosen_name() const;
    QString chosen_state() const;
    bool chosen_ready() const { return chosen_state() == QLatin1String("ready"); }
    bool removed() const { return removed_; }
    QString instruction() const;
    QString picture() const;
    // The chosen device's Categories (what its family can give): nullopt when exhibitd does
    // not publish the property (an older exhibitd, which offers them all).
    std::optional<QStringList> chosen_categories() const;
    // Its CategoriesNote: why it offers fewer; empty when it offers all.
    // Whether the chosen device is a removable disk (class mass_storage), not a phone.
    bool chosen_is_disk() const;
    QString chosen_categories_note() const;

    Q_INVOKABLE void choose(const QString& path);
    // Forgets the removed-phone notice and the choice (a new journey).
    void reset();

  public slots:
    void refresh();

  signals:
    void countChanged();
    void chosenChanged();
    void chosenGone();

  private slots:
    void on_added(const QDBusObjectPath& path, const InterfaceMap& interfaces);
    void on_removed(const QDBusObjectPath& path, const QStringList& interfaces);
    void on_properties(const QString& iface, const QVariantMap& changed,
                       const QStringList& invalidated, const QDBusMessage& msg);

  private:
    // Whether the chosen device has this class ("apple", "mass_storage", ...).
    bool chosen_has_class(const QString& device_class) const;
    struct Device {
        QString path;
        QVariantMap props;
    };
    int index_of(const QString& path) const;
    void upsert(const QString& path, const QVariantMap& props);
    void remove(const QString& path);
    void auto_choose();
    static QString name_of(const QVariantMap& props);
    static QString state_text(const QString& state);

    BusLink& link_;
    std::vector<Device> devices_;
    QString chosen_;
    bool removed_ = false;
};

}  // namespace exhibit::kiosk
