#include "status_model.hpp"

#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QDBusVariant>

#include "bus_link.hpp"
#include "format.hpp"

namespace exhibit::kiosk {

StatusModel::StatusModel(BusLink& link, QObject* parent) : QObject(parent), link_(link) {
    link_.watch_properties(this,
                           SLOT(on_properties(QString, QVariantMap, QStringList, QDBusMessage)));
    connect(&link_, &BusLink::returned, this, &StatusModel::refresh);
    connect(&link_, &BusLink::lost, this, [this] {
        health_.clear();
        queue_.clear();
        emit changed();
    });
    // A slow refresh as well: "last delivery" and free space move without a signal.
    timer_.setInterval(30'000);
    connect(&timer_, &QTimer::timeout, this, &StatusModel::refresh);
    timer_.start();
}

void StatusModel::refresh() {
    if (!link_.online())
        return;
    fetch(QString::fromLatin1(kRootPath) + QStringLiteral("/health"),
          QStringLiteral("org.exhibit.Exhibit1.Health"), health_);
    fetch(QString::fromLatin1(kRootPath) + QStringLiteral("/queue"),
          QStringLiteral("org.exhibit.Exhibit1.Queue"), queue_);
}

void StatusModel::fetch(const QString& path, const QString& iface, QVariantMap& into) {
    auto msg = QDBusMessage::createMethodCall(QString::fromLatin1(kService), path,
                                              QStringLiteral("org.freedesktop.DBus.Properties"),
                                              QStringLiteral("GetAll"));
    msg << iface;
    auto* w = new QDBusPendingCallWatcher(link_.connection().asyncCall(msg), this);
    connect(w, &QDBusPendingCallWatcher::finished, this, [this, w, &into] {
        QDBusPendingReply<QVariantMap> r = *w;
        w->deleteLater();
        if (r.isError())
            return;
        into = r.value();
        emit changed();
    });
}

void StatusModel::on_properties(const QString& iface, const QVariantMap& changed_props,
                                const QStringList&, const QDBusMessage&) {
    QVariantMap* into = nullptr;
    if (iface == QLatin1String("org.exhibit.Exhibit1.Health"))
        into = &health_;
    else if (iface == QLatin1String("org.exhibit.Exhibit1.Queue"))
        into = &queue_;
    if (!into)
        return;
    for (auto it = changed_props.begin(); it != changed_props.end(); ++it)
        into->insert(it.key(), it.value());
    emit changed();
}

bool StatusModel::dfu_ok() const {
    return !queue_.isEmpty() && queue_.value(QStringLiteral("CurrentError")).toString().isEmpty();
}

QString StatusModel::dfu_link() const {
    if (queue_.isEmpty())
        return tr("DFU store: checking");
    const auto error = queue_.value(QStringLiteral("CurrentError")).toString();
    if (error.isEmpty())
        return tr("DFU store: link working");
    return tr("DFU store: not reachable now; copies wait safely on this kiosk");
}

QString StatusModel::pending() const {
    if (queue_.isEmpty())
        return tr("Uploads waiting: -");
    const auto n = queue_.value(QStringLiteral("ItemsQueued")).toULongLong() +
                   queue_.value(QStringLiteral("ItemsUploading")).toULongLong();
    const auto bytes = queue_.value(QStringLiteral("BytesPending")).toULongLong();
    if (n == 0)
        return tr("Uploads waiting: none");
    return tr("Uploads waiting: %1 (%2)").arg(n).arg(format_bytes(bytes));
}

QString StatusModel::last_delivery() const {
    const auto ms = queue_.value(QStringLiteral("LastSuccessfulUpload")).toLongLong();
    if (queue_.isEmpty())
        return tr("Last delivery: -");
    if (ms <= 0)
        return tr("Last delivery: none yet");
    return tr("Last delivery: %1").arg(format_time_ms(ms));
}

QString StatusModel::free_space() const {
    if (health_.isEmpty())
        return tr("Free space: -");
    return tr("Free space: %1")
        .arg(format_bytes(health_.value(QStringLiteral("FreeBytes")).toULongLong()));
}

bool StatusModel::low_disk() const {
    if (health_.isEmpty())
        return false;
    return health_.value(QStringLiteral("FreeBytes")).toULongLong() <
           health_.value(QStringLiteral("MinFreeBytes")).toULongLong();
}

}  // namespace exhibit::kiosk
