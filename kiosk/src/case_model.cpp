#include "case_model.hpp"

#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>

#include "bus_link.hpp"
#include "error_text.hpp"
#include "validation.hpp"

namespace exhibit::kiosk {

CaseModel::CaseModel(BusLink& link, QObject* parent) : QObject(parent), link_(link) {}

void CaseModel::set_case_reference(const QString& v) {
    if (v == case_reference_)
        return;
    case_reference_ = v;
    emit changed();
}
void CaseModel::set_exhibit_reference(const QString& v) {
    if (v == exhibit_reference_)
        return;
    exhibit_reference_ = v;
    emit changed();
}
void CaseModel::set_owner(const QString& v) {
    if (v == owner_)
        return;
    owner_ = v;
    emit changed();
}
void CaseModel::set_basis(const QString& v) {
    if (v == basis_ || (v != QLatin1String("consent") && v != QLatin1String("other")))
        return;
    basis_ = v;
    emit changed();
}
void CaseModel::set_agreed_by(const QString& v) {
    if (v == agreed_by_)
        return;
    agreed_by_ = v;
    emit changed();
}
void CaseModel::set_agreed(bool v) {
    if (v == agreed_)
        return;
    agreed_ = v;
    emit changed();
}
void CaseModel::set_basis_reason(const QString& v) {
    if (v == basis_reason_)
        return;
    basis_reason_ = v;
    emit changed();
}

QString CaseModel::case_error() const {
    return check_text(case_reference_);
}
QString CaseModel::exhibit_error() const {
    return check_text(exhibit_reference_);
}
QString CaseModel::owner_error() const {
    return owner_.isEmpty() ? tr("Choose whose phone it is.") : QString();
}
bool CaseModel::case_valid() const {
    return case_error().isEmpty() && exhibit_error().isEmpty() && owner_error().isEmpty();
}

QString CaseModel::agreed_by_error() const {
    if (basis_ != QLatin1String("consent"))
        return {};
    if (auto why = check_text(agreed_by_); !why.isEmpty())
        return why;
    return agreed_ ? QString() : tr("The owner ticks the box to agree.");
}
QString CaseModel::basis_reason_error() const {
    return basis_ == QLatin1String("other") ? check_text(basis_reason_) : QString();
}
bool CaseModel::agreement_valid() const {
    if (notice_version_.isEmpty())
        return false;
    return basis_ == QLatin1String("consent") ? agreed_by_error().isEmpty()
                                              : basis_reason_error().isEmpty();
}

void CaseModel::revealErrors() {
    show_errors_ = true;
    emit changed();
}

void CaseModel::loadNotice() {
    if (notice_loading_)
        return;
    notice_loading_ = true;
    notice_error_.clear();
    emit noticeChanged();
    auto* w = new QDBusPendingCallWatcher(link_.manager().GetNotice({}), this);
    connect(w, &QDBusPendingCallWatcher::finished, this, [this, w] {
        QDBusPendingReply<QVariantMap> r = *w;
        w->deleteLater();
        notice_loading_ = false;
        if (r.isError()) {
            notice_error_ = error_sentence(r.error());
        } else {
            const auto v = r.value();
            const auto version = v.value(QStringLiteral("version")).toString();
            if (version != notice_version_ && !notice_version_.isEmpty()) {
                // A new notice: what the owner agreed to before is not what is shown now.
                agreed_ = false;
                emit changed();
            }
            notice_version_ = version;
            notice_text_ = v.value(QStringLiteral("text")).toString();
        }
        emit noticeChanged();
        emit changed();
    });
}

QVariantMap CaseModel::case_arguments() const {
    QVariantMap c = {{QStringLiteral("case_reference"), case_reference_.trimmed()},
                     {QStringLiteral("exhibit_reference"), exhibit_reference_.trimmed()},
                     {QStringLiteral("owner"), owner_},
                     {QStringLiteral("basis"), basis_}};
    if (basis_ == QLatin1String("consent")) {
        c.insert(QStringLiteral("notice_version"), notice_version_);
        c.insert(QStringLiteral("agreed_by"), agreed_by_.trimmed());
    } else {
        c.insert(QStringLiteral("basis_reason"), basis_reason_.trimmed());
    }
    return c;
}

void CaseModel::clear() {
    case_reference_.clear();
    exhibit_reference_.clear();
    owner_.clear();
    basis_ = QStringLiteral("consent");
    agreed_by_.clear();
    basis_reason_.clear();
    agreed_ = false;
    show_errors_ = false;
    notice_version_.clear();
    notice_text_.clear();
    notice_error_.clear();
    emit changed();
    emit noticeChanged();
}

}  // namespace exhibit::kiosk
