// The status strip of the Ready screen: the link to the DFU store, uploads waiting, the last
// delivery and free space, from exhibitd's Health and Queue objects. Follows their
// PropertiesChanged and reads them again when exhibitd returns. Thread-bound.
#pragma once

#include <QDBusMessage>
#include <QObject>
#include <QTimer>
#include <QVariantMap>

namespace exhibit::kiosk {

class BusLink;

class StatusModel : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString dfuLink READ dfu_link NOTIFY changed)
    Q_PROPERTY(bool dfuOk READ dfu_ok NOTIFY changed)
    Q_PROPERTY(QString pending READ pending NOTIFY changed)
    Q_PROPERTY(QString lastDelivery READ last_delivery NOTIFY changed)
    Q_PROPERTY(QString freeSpace READ free_space NOTIFY changed)
    Q_PROPERTY(bool lowDisk READ low_disk NOTIFY changed)

  public:
    explicit StatusModel(BusLink& link, QObject* parent = nullptr);

    QString dfu_link() const;
    bool dfu_ok() const;
    QString pending() const;
    QString last_delivery() const;
    QString free_space() const;
    bool low_disk() const;

  public slots:
    void refresh();

  signals:
    void changed();

  private slots:
    void on_properties(const QString& iface, const QVariantMap& changed,
                       const QStringList& invalidated, const QDBusMessage& msg);

  private:
    void fetch(const QString& path, const QString& iface, QVariantMap& into);

    BusLink& link_;
    QVariantMap health_, queue_;
    QTimer timer_;
};

}  // namespace exhibit::kiosk
