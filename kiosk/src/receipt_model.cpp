#include "receipt_model.hpp"

#include <QCoreApplication>
#include <QDBusObjectPath>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QJsonDocument>
#include <QJsonObject>

#include "bus_link.hpp"
#include "error_text.hpp"
#include "format.hpp"
#include "kiosk_config.hpp"
#include "receipt_pdf.hpp"

namespace exhibit::kiosk {

namespace {
const char* const kCategories[] = {"photos",      "videos",   "audio",    "documents",
                                   "messages",    "call_log", "contacts", "apps",
                                   "device_info", "cctv_export", "disk_image"};
constexpr int kPollMs = 2000;
}  // namespace

ReceiptModel::ReceiptModel(BusLink& link, const KioskConfig& config, QObject* parent)
    : QObject(parent), link_(link), config_(config) {
    poll_.setInterval(kPollMs);
    connect(&poll_, &QTimer::timeout, this, &ReceiptModel::refresh);
    connect(&link_, &BusLink::returned, this, [this] {
        if (!path_.isEmpty())
            refresh();
    });
}

void ReceiptModel::load(const QString& session_path) {
    clear();
    path_ = session_path;
    refresh();
    poll_.start();
}

void ReceiptModel::refresh() {
    if (path_.isEmpty() || !link_.online())
        return;
    auto* w =
        new QDBusPendingCallWatcher(link_.manager().GetReceipt(QDBusObjectPath(path_), {}), this);
    const QString path = path_;
    connect(w, &QDBusPendingCallWatcher::finished, this, [this, w, path] {
        QDBusPendingReply<QVariantMap> r = *w;
        w->deleteLater();
        if (path != path_)
            return;
        if (r.isError()) {
            error_ = error_sentence(r.error());
        } else {
            error_.clear();
            values_ = r.value();
            if (delivered())
                poll_.stop();  // nothing will change any more
        }
        emit changed();
    });
}

QVariantList ReceiptModel::categories() const {
    QVariantList out;
    for (const char* c : kCategories) {
        const QString name = QString::fromLatin1(c);
        const auto items = values_.value(QStringLiteral("items.") + name);
        if (!items.isValid())
            continue;
        const auto bytes = values_.value(QStringLiteral("bytes.") + name).toULongLong();
        out << QVariantMap{
            {QStringLiteral("name"), name},
            {QStringLiteral("label"), category_name(name)},
            {QStringLiteral("items"), items.toULongLong()},
            {QStringLiteral("bytes"), bytes},
            {QStringLiteral("bytesText"), tr("%1 (%2 bytes)").arg(format_bytes(bytes)).arg(bytes)}};
    }
    return out;
}

QString seal_text(const QVariantMap& receipt) {
    const QString sha = receipt.value(QStringLiteral("seal_sha256")).toString();
    return sha.isEmpty() ? QCoreApplication::translate("exhibit::kiosk::ReceiptModel",
                                                       "made when the copying has ended")
                         : sha;
}

QString ReceiptModel::seal_sha256() const {
    return values_.value(QStringLiteral("seal_sha256")).toString();
}

QString ReceiptModel::manifest_sha256() const {
    return values_.value(QStringLiteral("manifest_sha256")).toString();
}

bool ReceiptModel::delivered() const {
    return values_.value(QStringLiteral("upload_state"))
        .toString()
        .startsWith(QLatin1String("delivered"));
}

bool ReceiptModel::can_send_now() const {
    return loaded() && !delivered() && !sent_now_ &&
           values_.value(QStringLiteral("priority")).toString() != QLatin1String("urgent") &&
           values_.value(QStringLiteral("upload_state")).toString() !=
               QLatin1String("nothing to upload");
}

QString ReceiptModel::delivery() const {
    if (!loaded())
        return tr("Reading the receipt…");
    const auto state = values_.value(QStringLiteral("upload_state")).toString();
    const auto total = values_.value(QStringLiteral("items")).toULongLong();
    const auto received = values_.value(QStringLiteral("items_received_by_dfu")).toULongLong();
    if (state.startsWith(QLatin1String("delivered")))
        return tr("Delivered: the DFU store has received every item and the signed manifest.");
    if (state == QLatin1String("nothing to upload"))
        return tr("Nothing was copied, so nothing is sent.");
    if (sent_now_ ||
        values_.value(QStringLiteral("priority")).toString() == QLatin1String("urgent"))
        return tr("Sending now: %1 of %2 items received by the DFU store so far.")
            .arg(received)
            .arg(total);
    return tr("Goes to the DFU store tonight (%1 of %2 items received so far). Tap \"Send "
              "now\" if it is urgent.")
        .arg(received)
        .arg(total);
}

QString ReceiptModel::total_text() const {
    const auto bytes = values_.value(QStringLiteral("bytes")).toULongLong();
    QString text = tr("%1 items, %2 (%3 bytes)")
                       .arg(values_.value(QStringLiteral("items")).toULongLong())
                       .arg(format_bytes(bytes))
                       .arg(bytes);
    if (auto n = values_.value(QStringLiteral("items_incomplete")).toULongLong())
        text += QLatin1Char(' ') + tr("(%1 incomplete, not evidence)").arg(n);
    return text;
}

QString ReceiptModel::device_text() const {
    const auto json =
        QJsonDocument::fromJson(values_.value(QStringLiteral("device")).toString().toUtf8());
    if (!json.isObject())
        return tr("-");
    const auto o = json.object();
    QStringList words;
    for (const char* key : {"manufacturer", "model"})
        if (auto v = o.value(QLatin1String(key)).toString(); !v.isEmpty())
            words << v;
    if (auto serial = o.value(QLatin1String("serial")).toString(); !serial.isEmpty())
        words << tr("(serial %1)").arg(serial);
    return words.isEmpty() ? tr("-") : words.join(QLatin1Char(' '));
}

QString ReceiptModel::basis_text() const {
    const auto basis = values_.value(QStringLiteral("basis")).toString();
    if (basis == QLatin1String("consent"))
        return tr("Agreement of %1 to notice %2")
            .arg(values_.value(QStringLiteral("agreed_by")).toString(),
                 values_.value(QStringLiteral("notice_version")).toString());
    return tr("Other lawful basis: %1")
        .arg(values_.value(QStringLiteral("basis_reason")).toString());
}

void ReceiptModel::sendNow() {
    if (path_.isEmpty())
        return;
    auto* w =
        new QDBusPendingCallWatcher(link_.manager().SendNow(QDBusObjectPath(path_), {}), this);
    connect(w, &QDBusPendingCallWatcher::finished, this, [this, w] {
        QDBusPendingReply<> r = *w;
        w->deleteLater();
        if (r.isError())
            error_ = error_sentence(r.error());
        else
            sent_now_ = true;
        emit changed();
        refresh();
        poll_.start();
    });
}

void ReceiptModel::makeDocuments(const QString& officer_name) {
    if (!loaded() || printing_)
        return;
    printing_ = true;
    emit changed();
    ReceiptText text{values_,      categories(), delivery(),        device_text(),
                     basis_text(), officer_name, config_.contact(), config_.force_name()};
    documents_ = write_and_print(text, config_);
    printing_ = false;
    emit changed();
}

void ReceiptModel::clear() {
    poll_.stop();
    path_.clear();
    values_.clear();
    error_.clear();
    documents_.clear();
    printing_ = false;
    sent_now_ = false;
    emit changed();
}

}  // namespace exhibit::kiosk
