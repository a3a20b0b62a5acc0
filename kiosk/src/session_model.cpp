#include "session_model.hpp"

#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>

#include "bus_link.hpp"
#include "error_text.hpp"
#include "format.hpp"

namespace exhibit::kiosk {

namespace {
const QString kSessionIface = QStringLiteral("org.exhibit.Exhibit1.Session");
}

SessionModel::SessionModel(BusLink& link, QObject* parent) : QObject(parent), link_(link) {
    link_.watch_properties(this,
                           SLOT(on_properties(QString, QVariantMap, QStringList, QDBusMessage)));
}

SessionModel::~SessionModel() = default;

qulonglong SessionModel::u(const char* key) const {
    return props_.value(QString::fromLatin1(key)).toULongLong();
}

void SessionModel::start(const QString& device, const QVariantMap& case_args,
                         const QVariantMap& scope, const QVariantMap& options) {
    if (starting_ || running())
        return;
    clear();
    starting_ = true;
    emit changed();
    auto call = link_.manager().StartExtraction(QDBusObjectPath(device), case_args, scope, options);
    auto* w = new QDBusPendingCallWatcher(call, this);
    connect(w, &QDBusPendingCallWatcher::finished, this, [this, w] {
        QDBusPendingReply<QDBusObjectPath> r = *w;
        w->deleteLater();
        starting_ = false;
        if (r.isError()) {
            error_ = error_sentence(r.error());
            emit changed();
            emit failedToStart();
            return;
        }
        follow(r.value().path());
        emit started();
    });
}

void SessionModel::follow(const QString& path) {
    path_ = path;
    proxy_ = link_.session(path);
    connect(proxy_.get(), &OrgExhibitExhibit1SessionInterface::Completed, this,
            &SessionModel::on_completed);
    emit changed();
    fetch_all();  // after subscribing: nothing is missed between the two
}

void SessionModel::fetch_all() {
    auto msg = QDBusMessage::createMethodCall(QString::fromLatin1(kService), path_,
                                              QStringLiteral("org.freedesktop.DBus.Properties"),
                                              QStringLiteral("GetAll"));
    msg << kSessionIface;
    auto* w = new QDBusPendingCallWatcher(link_.connection().asyncCall(msg), this);
    const QString path = path_;
    connect(w, &QDBusPendingCallWatcher::finished, this, [this, w, path] {
        QDBusPendingReply<QVariantMap> r = *w;
        w->deleteLater();
        if (r.isError() || path != path_)
            return;
        const auto all = r.value();
        for (auto it = all.begin(); it != all.end(); ++it)
            props_.insert(it.key(), it.value());
        const auto s = props_.value(QStringLiteral("State")).toString();
        if (!finished_ && s != QLatin1String("created") && s != QLatin1String("running")) {
            finished_ = true;
            emit changed();
            emit completed();
            return;
        }
        emit changed();
    });
}

void SessionModel::on_properties(const QString& iface, const QVariantMap& changed_props,
                                 const QStringList&, const QDBusMessage& msg) {
    if (iface != kSessionIface || msg.path() != path_ || path_.isEmpty())
        return;
    for (auto it = changed_props.begin(); it != changed_props.end(); ++it)
        props_.insert(it.key(), it.value());
    emit changed();
}

void SessionModel::on_completed(const QString& state, const QString& reason) {
    props_.insert(QStringLiteral("State"), state);
    props_.insert(QStringLiteral("Reason"), reason);
    if (finished_)
        return;
    finished_ = true;
    emit changed();
    emit completed();
    fetch_all();  // the final counters
}

void SessionModel::cancel() {
    if (!proxy_ || finished_)
        return;
    auto* w = new QDBusPendingCallWatcher(proxy_->Cancel({}), this);
    connect(w, &QDBusPendingCallWatcher::finished, this, [this, w] {
        QDBusPendingReply<> r = *w;
        w->deleteLater();
        if (r.isError()) {
            error_ = error_sentence(r.error());
            emit changed();
        }
    });
}

void SessionModel::lose() {
    if (path_.isEmpty() || finished_)
        return;
    props_.insert(QStringLiteral("State"), QStringLiteral("interrupted"));
    props_.insert(QStringLiteral("Reason"), tr("the kiosk service restarted"));
    finished_ = true;
    emit changed();
    emit completed();
}

void SessionModel::clear() {
    path_.clear();
    proxy_.reset();
    props_.clear();
    starting_ = false;
    finished_ = false;
    error_.clear();
    emit changed();
}

QString SessionModel::state() const {
    return props_.value(QStringLiteral("State")).toString();
}

double SessionModel::progress() const {
    return props_.value(QStringLiteral("Progress")).toDouble();
}

QString SessionModel::bytes_text() const {
    return tr("%1 of %2").arg(format_bytes(u("BytesDone")), format_bytes(u("BytesTotal")));
}

QString SessionModel::items_text() const {
    return tr("%1 of %2 items").arg(u("ItemsDone")).arg(u("ItemsTotal"));
}

QString SessionModel::rate_text() const {
    const double rate = props_.value(QStringLiteral("Rate")).toDouble();
    return rate > 0 ? tr("%1/s").arg(format_bytes(static_cast<qulonglong>(rate))) : tr("-");
}

QString SessionModel::time_left_text() const {
    const double rate = props_.value(QStringLiteral("Rate")).toDouble();
    const auto total = u("BytesTotal"), done = u("BytesDone");
    if (rate <= 0 || total <= done)
        return finished_ ? tr("done") : tr("working it out");
    return tr("about %1")
        .arg(format_duration(static_cast<qint64>(static_cast<double>(total - done) / rate) + 1));
}

QString SessionModel::current_item() const {
    return props_.value(QStringLiteral("CurrentItem")).toString();
}

QString SessionModel::outcome() const {
    if (!finished_)
        return {};
    const QString s = state();
    const QString reason = props_.value(QStringLiteral("Reason")).toString();
    const auto done = u("ItemsDone"), total = u("ItemsTotal");
    const auto incomplete = u("ItemsIncomplete"), skipped = u("ItemsSkipped");
    QString kept = tr("%1 of the %2 chosen items were copied whole and are kept as evidence.")
                       .arg(done)
                       .arg(total);
    if (incomplete > 0)
        kept += QLatin1Char(' ') +
                tr("%1 item(s) stopped part-way: they are recorded as incomplete and are not "
                   "evidence.")
                    .arg(incomplete);
    if (skipped > 0)
        kept += QLatin1Char(' ') + tr("%1 item(s) could not be read from the phone.").arg(skipped);
    if (s == QLatin1String("completed"))
        return tr("Copy finished. %1").arg(kept);
    if (s == QLatin1String("cancelled"))
        return tr("Copy cancelled. %1 Nothing more was taken from the phone.").arg(kept);
    if (s == QLatin1String("interrupted")) {
        if (reason.contains(QLatin1String("disconnect"), Qt::CaseInsensitive) ||
            reason.contains(QLatin1String("unplug"), Qt::CaseInsensitive))
            return tr("The phone was pulled out before the copy finished. %1 The rest was not "
                      "copied: plug the phone in again and start a new copy for it.")
                .arg(kept);
        return tr("The copy stopped (%1). %2 The rest was not copied.").arg(reason, kept);
    }
    return tr("The phone stopped answering properly (%1). %2 The rest was not copied.")
        .arg(reason.isEmpty() ? tr("no reason given") : reason, kept);
}

}  // namespace exhibit::kiosk
