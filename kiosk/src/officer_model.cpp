#include "officer_model.hpp"

#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>

#include "bus_link.hpp"
#include "error_text.hpp"
#include "validation.hpp"

namespace exhibit::kiosk {

namespace {
constexpr int kMaxIdDigits = 20;
constexpr int kMaxPinDigits = 12;
}  // namespace

OfficerModel::OfficerModel(BusLink& link, QObject* parent) : QObject(parent), link_(link) {}

void OfficerModel::set_field(const QString& f) {
    if (f != QLatin1String("id") && f != QLatin1String("pin"))
        return;
    field_ = f;
    emit changed();
}

void OfficerModel::press(const QString& key) {
    if (busy_)
        return;
    QString& target = field_ == QLatin1String("pin") ? pin_ : typed_id_;
    const int max = field_ == QLatin1String("pin") ? kMaxPinDigits : kMaxIdDigits;
    if (key == QLatin1String("back")) {
        if (!target.isEmpty())
            target.chop(1);
    } else if (key == QLatin1String("clear")) {
        if (&target == &pin_)
            wipe_pin();
        else
            target.clear();
    } else if (key.size() == 1 && key[0].isDigit() && target.size() < max) {
        target += key;
    }
    error_.clear();
    emit changed();
}

void OfficerModel::wipe_pin() {
    pin_.fill(QLatin1Char('0'));
    pin_.clear();
}

void OfficerModel::signIn() {
    if (busy_)
        return;
    notice_.clear();
    if (auto why = check_text(typed_id_); !why.isEmpty()) {
        error_ = tr("Officer number: %1").arg(why);
        field_ = QStringLiteral("id");
        emit changed();
        return;
    }
    if (auto why = check_pin(pin_); !why.isEmpty()) {
        error_ = tr("PIN: %1").arg(why);
        field_ = QStringLiteral("pin");
        emit changed();
        return;
    }
    busy_ = true;
    error_.clear();
    const QString id = typed_id_;
    auto call = link_.manager().SignIn(id, pin_, {});
    wipe_pin();  // the PIN lives no longer than the call
    emit changed();
    auto* w = new QDBusPendingCallWatcher(call, this);
    connect(w, &QDBusPendingCallWatcher::finished, this, [this, w, id] {
        QDBusPendingReply<QVariantMap> r = *w;
        w->deleteLater();
        busy_ = false;
        if (r.isError()) {
            error_ = error_sentence(r.error());
            field_ = QStringLiteral("pin");
            emit changed();
            return;
        }
        const auto reply = r.value();
        officer_id_ = reply.value(QStringLiteral("officer_id"), id).toString();
        officer_name_ = reply.value(QStringLiteral("name")).toString();
        typed_id_.clear();
        field_ = QStringLiteral("id");
        emit changed();
        emit signedInChanged();
    });
}

void OfficerModel::signOut() {
    if (signed_in() && link_.online())
        link_.manager().SignOut({});  // fire and forget: exhibitd also ends it when we leave
    officer_id_.clear();
    officer_name_.clear();
    clear();
    emit signedInChanged();
}

void OfficerModel::forget(const QString& why) {
    const bool was = signed_in();
    officer_id_.clear();
    officer_name_.clear();
    clear();
    notice_ = why;
    emit changed();
    if (was)
        emit signedInChanged();
}

void OfficerModel::clear() {
    typed_id_.clear();
    wipe_pin();
    field_ = QStringLiteral("id");
    busy_ = false;
    error_.clear();
    notice_.clear();
    emit changed();
}

}  // namespace exhibit::kiosk
