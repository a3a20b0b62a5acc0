#include "devices_model.hpp"

#include <QDBusArgument>
#include <QDBusConnection>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QRegularExpression>

#include "bus_link.hpp"

namespace exhibit::kiosk {

namespace {
const QString kDeviceIface = QStringLiteral("org.exhibit.Exhibit1.Device");
const QString kObjectManager = QStringLiteral("org.freedesktop.DBus.ObjectManager");
}  // namespace

DevicesModel::DevicesModel(BusLink& link, QObject* parent)
    : QAbstractListModel(parent), link_(link) {
    QDBusConnection c = link_.connection();
    c.connect(QString::fromLatin1(kService), QString::fromLatin1(kRootPath), kObjectManager,
              QStringLiteral("InterfacesAdded"), this,
              SLOT(on_added(QDBusObjectPath, InterfaceMap)));
    c.connect(QString::fromLatin1(kService), QString::fromLatin1(kRootPath), kObjectManager,
              QStringLiteral("InterfacesRemoved"), this,
              SLOT(on_removed(QDBusObjectPath, QStringList)));
    link_.watch_properties(this,
                           SLOT(on_properties(QString, QVariantMap, QStringList, QDBusMessage)));
    connect(&link_, &BusLink::returned, this, &DevicesModel::refresh);
    connect(&link_, &BusLink::lost, this, [this] {
        // The objects are gone with exhibitd; a restarted exhibitd makes new ones.
        beginResetModel();
        devices_.clear();
        endResetModel();
        chosen_.clear();
        emit countChanged();
        emit chosenChanged();
    });
}

void DevicesModel::refresh() {
    auto msg = QDBusMessage::createMethodCall(QString::fromLatin1(kService),
                                              QString::fromLatin1(kRootPath), kObjectManager,
                                              QStringLiteral("GetManagedObjects"));
    auto* w = new QDBusPendingCallWatcher(link_.connection().asyncCall(msg), this);
    connect(w, &QDBusPendingCallWatcher::finished, this, [this, w] {
        QDBusPendingReply<ManagedObjects> r = *w;
        w->deleteLater();
        if (r.isError())
            return;
        const auto objects = r.value();
        QStringList present;
        for (auto it = objects.begin(); it != objects.end(); ++it) {
            if (!it.value().contains(kDeviceIface))
                continue;
            present << it.key().path();
            upsert(it.key().path(), it.value().value(kDeviceIface));
        }
        for (const auto& d : std::vector<Device>(devices_))
            if (!present.contains(d.path))
                remove(d.path);
        auto_choose();
    });
}

int DevicesModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : count();
}

QVariant DevicesModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= count())
        return {};
    const auto& d = devices_[static_cast<std::size_t>(index.row())];
    switch (role) {
        case PathRole:
            return d.path;
        case NameRole:
            return name_of(d.props);
        case StateRole:
            return d.props.value(QStringLiteral("State"));
        case DetailRole:
            return d.props.value(QStringLiteral("Detail"));
        case SerialRole:
            return d.props.value(QStringLiteral("Serial"));
        case StateTextRole:
            return state_text(d.props.value(QStringLiteral("State")).toString());
        default:
            return {};
    }
}

QHash<int, QByteArray> DevicesModel::roleNames() const {
    return {{PathRole, "path"},     {NameRole, "name"},     {StateRole, "state"},
            {DetailRole, "detail"}, {SerialRole, "serial"}, {StateTextRole, "stateText"}};
}

int DevicesModel::index_of(const QString& path) const {
    for (std::size_t i = 0; i < devices_.size(); ++i)
        if (devices_[i].path == path)
            return static_cast<int>(i);
    return -1;
}

void DevicesModel::upsert(const QString& path, const QVariantMap& props) {
    const int i = index_of(path);
    if (i >= 0) {
        for (auto it = props.begin(); it != props.end(); ++it)
            devices_[static_cast<std::size_t>(i)].props.insert(it.key(), it.value());
        emit dataChanged(index(i), index(i));
    } else {
        beginInsertRows({}, count(), count());
        devices_.push_back({path, props});
        endInsertRows();
        emit countChanged();
    }
    if (path == chosen_ || chosen_.isEmpty())
        emit chosenChanged();
}

void DevicesModel::remove(const QString& path) {
    const int i = index_of(path);
    if (i < 0)
        return;
    beginRemoveRows({}, i, i);
    devices_.erase(devices_.begin() + i);
    endRemoveRows();
    emit countChanged();
    if (path == chosen_) {
        chosen_.clear();
        removed_ = true;
        emit chosenChanged();
        emit chosenGone();
    }
}

void DevicesModel::on_added(const QDBusObjectPath& path, const InterfaceMap& interfaces) {
    if (!interfaces.contains(kDeviceIface))
        return;
    upsert(path.path(), interfaces.value(kDeviceIface));
    auto_choose();
}

void DevicesModel::on_removed(const QDBusObjectPath& path, const QStringList& interfaces) {
    if (interfaces.contains(kDeviceIface))
        remove(path.path());
}

void DevicesModel::on_properties(const QString& iface, const QVariantMap& changed,
                                 const QStringList&, const QDBusMessage& msg) {
    if (iface != kDeviceIface || index_of(msg.path()) < 0)
        return;
    upsert(msg.path(), changed);
    if (changed.value(QStringLiteral("State")).toString() == QLatin1String("gone"))
        remove(msg.path());
}

void DevicesModel::auto_choose() {
    if (!chosen_.isEmpty() || devices_.size() != 1)
        return;
    chosen_ = devices_.front().path;
    removed_ = false;
    emit chosenChanged();
}

void DevicesModel::choose(const QString& path) {
    if (index_of(path) < 0)
        return;
    chosen_ = path;
    removed_ = false;
    emit chosenChanged();
}

void DevicesModel::reset() {
    chosen_.clear();
    removed_ = false;
    auto_choose();
    emit chosenChanged();
}

QString DevicesModel::name_of(const QVariantMap& p) {
    QString name = (p.value(QStringLiteral("Manufacturer")).toString() + QLatin1Char(' ') +
                    p.value(QStringLiteral("Product")).toString())
                       .trimmed();
    if (name.isEmpty())
        name = tr("Unnamed device");
    return name;
}

QString DevicesModel::chosen_name() const {
    const int i = index_of(chosen_);
    return i < 0 ? QString() : name_of(devices_[static_cast<std::size_t>(i)].props);
}

std::optional<QStringList> DevicesModel::chosen_categories() const {
    const int i = index_of(chosen_);
    if (i < 0)
        return std::nullopt;
    const QVariant v =
        devices_[static_cast<std::size_t>(i)].props.value(QStringLiteral("Categories"));
    if (!v.isValid())
        return std::nullopt;
    if (v.metaType() == QMetaType::fromType<QDBusArgument>())
        return qdbus_cast<QStringList>(v.value<QDBusArgument>());
    return v.toStringList();
}

bool DevicesModel::chosen_has_class(const QString& device_class) const {
    const int i = index_of(chosen_);
    if (i < 0)
        return false;
    const QVariant v = devices_[static_cast<std::size_t>(i)].props.value(QStringLiteral("Classes"));
    const QStringList classes = v.metaType() == QMetaType::fromType<QDBusArgument>()
                                    ? qdbus_cast<QStringList>(v.value<QDBusArgument>())
                                    : v.toStringList();
    return classes.contains(device_class);
}

bool DevicesModel::chosen_is_disk() const {
    return chosen_has_class(QStringLiteral("mass_storage"));
}

QString DevicesModel::chosen_categories_note() const {
    const int i = index_of(chosen_);
    return i < 0 ? QString()
                 : devices_[static_cast<std::size_t>(i)]
                       .props.value(QStringLiteral("CategoriesNote"))
                       .toString();
}

QString DevicesModel::chosen_state() const {
    const int i = index_of(chosen_);
    return i < 0 ? QString()
                 : devices_[static_cast<std::size_t>(i)]
                       .props.value(QStringLiteral("State"))
                       .toString();
}

QString DevicesModel::state_text(const QString& s) {
    if (s == QLatin1String("connected"))
        return tr("Talking to the phone");
    if (s == QLatin1String("needs_authorisation"))
        return tr("Waiting for Allow on the phone");
    if (s == QLatin1String("locked"))
        return tr("Phone locked");
    if (s == QLatin1String("ready"))
        return tr("Ready");
    if (s == QLatin1String("busy"))
        return tr("Busy");
    if (s == QLatin1String("unsupported"))
        return tr("Cannot be read here");
    if (s == QLatin1String("gone"))
        return tr("Unplugged");
    return s;
}

QString DevicesModel::instruction() const {
    if (chosen_.isEmpty()) {
        if (removed_)
            return tr("The phone was unplugged. Plug it in again to carry on.");
        if (count() > 1)
            return tr("More than one phone is plugged in. Tap the phone to use.");
        return tr("Plug the phone into the kiosk's cable.");
    }
    const auto& props = devices_[static_cast<std::size_t>(index_of(chosen_))].props;
    const QString state = props.value(QStringLiteral("State")).toString();
    const QString detail = props.value(QStringLiteral("Detail")).toString();
    // A USB stick or memory card: nothing for its owner to do, and no phone to speak of.
    const bool disk = chosen_is_disk();
    if (disk && state == QLatin1String("connected"))
        return tr("The kiosk is looking at the USB stick or memory card. Keep it plugged in.");
    if (state == QLatin1String("connected")) {
        // Detail describes the phone while all is well ("Android phone with USB debugging
        // (ADB)") and says why when it could not be reached ("could not connect: ...").
        static const QRegularExpression trouble(
            QStringLiteral("could not|cannot|can't|failed|timed out|error|refused"),
            QRegularExpression::CaseInsensitiveOption);
        if (detail.contains(trouble))
            return tr("The kiosk cannot reach the phone yet (%1). Unlock the phone and keep "
                      "it plugged in; if nothing changes, unplug it and plug it in again.")
                .arg(detail);
        return tr("The kiosk is talking to the phone. Keep it plugged in and unlocked.");
    }
    // An iPhone asks "Trust This Computer?"; its family says when Don't Trust was tapped.
    if (state == QLatin1String("needs_authorisation") && chosen_has_class(QStringLiteral("apple")))
        return detail.contains(QLatin1String("Don't Trust"))
                   ? tr("Don't Trust was tapped on the iPhone. Unplug it and plug it in again, "
                        "then ask the owner to tap Trust.")
                   : tr("Ask the owner to unlock the iPhone and tap Trust on the question "
                        "\"Trust This Computer?\", then enter the passcode if the iPhone asks.");
    if (state == QLatin1String("needs_authorisation"))
        return tr(
            "Ask the owner to unlock the phone and tap Allow on the question "
            "\"Allow USB debugging?\".");
    if (state == QLatin1String("locked")) {
        // The family's instruction ("unlock the phone and choose File transfer in its USB
        // notification") when it gives one.
        if (detail.isEmpty())
            return tr("Ask the owner to unlock the phone.");
        QString what = detail.trimmed();
        if (what.endsWith(QLatin1Char('.')))
            what.chop(1);
        return tr("Ask the owner to %1.").arg(what);
    }
    if (state == QLatin1String("ready"))
        return disk ? tr("The USB stick or memory card is ready. It is read without "
                         "changing anything on it. Tap Next.")
                    : tr("The phone is ready. Tap Next.");
    if (state == QLatin1String("busy"))
        return disk ? tr("The USB stick or memory card is busy. Wait a moment.")
                    : tr("The phone is busy. Wait a moment.");
    if (state == QLatin1String("unsupported"))
        return detail.isEmpty() ? tr("This kiosk cannot read this device. Unplug it.")
                                : tr("This kiosk cannot read this device: %1").arg(detail);
    return state_text(state);
}

QString DevicesModel::picture() const {
    if (chosen_.isEmpty())
        return removed_ ? QStringLiteral("removed") : QStringLiteral("plug");
    const QString state = chosen_state();
    if (state == QLatin1String("locked"))
        return QStringLiteral("locked");
    if (state == QLatin1String("needs_authorisation"))
        return chosen_has_class(QStringLiteral("apple")) ? QStringLiteral("trust")
                                                         : QStringLiteral("allow");
    if (state == QLatin1String("ready") || state == QLatin1String("busy"))
        return QStringLiteral("ready");
    if (state == QLatin1String("unsupported")) {
        const int i = index_of(chosen_);
        const auto detail =
            devices_[static_cast<std::size_t>(i)].props.value(QStringLiteral("Detail")).toString();
        return detail.contains(QLatin1String("debugging"), Qt::CaseInsensitive)
                   ? QStringLiteral("debugging")
                   : QStringLiteral("unsupported");
    }
    return QStringLiteral("plug");
}

}  // namespace exhibit::kiosk
