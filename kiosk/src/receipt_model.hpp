// The receipt of a session, from exhibitd's GetReceipt: case, exhibit, officer, items and
// bytes per category, the seal and the delivery state, read again every few seconds until
// the DFU store has received everything. The seal (seal_sha256) is the SHA-256 of the
// session's extraction record, known as soon as the session ends; the signed manifest that
// exhibitd sends after the items states it, so the DFU can match it to this receipt.
// SendNow moves what is left to the urgent lane. Thread-bound.
#pragma once

#include <QObject>
#include <QTimer>
#include <QVariantList>
#include <QVariantMap>

namespace exhibit::kiosk {

// A receipt's seal in words: GetReceipt's seal_sha256, or, while the session still runs, when
// it is made. Shared by the screen and the printed receipt.
QString seal_text(const QVariantMap& receipt);

class BusLink;
class KioskConfig;

class ReceiptModel : public QObject {
    Q_OBJECT
    Q_PROPERTY(bool loaded READ loaded NOTIFY changed)
    Q_PROPERTY(QVariantMap values READ values NOTIFY changed)
    Q_PROPERTY(QVariantList categories READ categories NOTIFY changed)
    Q_PROPERTY(QString sealSha256 READ seal_sha256 NOTIFY changed)
    Q_PROPERTY(QString manifestSha256 READ manifest_sha256 NOTIFY changed)
    // The seal as shown: the extraction record's SHA-256, or when it will be made.
    Q_PROPERTY(QString sealText READ seal_text NOTIFY changed)
    Q_PROPERTY(QString delivery READ delivery NOTIFY changed)
    Q_PROPERTY(bool delivered READ delivered NOTIFY changed)
    Q_PROPERTY(bool canSendNow READ can_send_now NOTIFY changed)
    Q_PROPERTY(QString totalText READ total_text NOTIFY changed)
    Q_PROPERTY(QString deviceText READ device_text NOTIFY changed)
    Q_PROPERTY(QString basisText READ basis_text NOTIFY changed)
    Q_PROPERTY(QString error READ error NOTIFY changed)
    Q_PROPERTY(QString documents READ documents NOTIFY changed)
    Q_PROPERTY(bool printing READ printing NOTIFY changed)

  public:
    ReceiptModel(BusLink& link, const KioskConfig& config, QObject* parent = nullptr);

    bool loaded() const { return !values_.isEmpty(); }
    QVariantMap values() const { return values_; }
    QVariantList categories() const;
    QString seal_sha256() const;
    QString manifest_sha256() const;
    QString seal_text() const { return kiosk::seal_text(values_); }
    QString delivery() const;
    bool delivered() const;
    bool can_send_now() const;
    QString total_text() const;
    QString device_text() const;
    QString basis_text() const;
    QString error() const { return error_; }
    QString documents() const { return documents_; }
    bool printing() const { return printing_; }

    void load(const QString& session_path);
    Q_INVOKABLE void refresh();
    Q_INVOKABLE void sendNow();
    // Writes the PDF receipt for the case file and the easy-read copy for the owner, and
    // prints both through CUPS when a printer is configured (else says where they are).
    Q_INVOKABLE void makeDocuments(const QString& officer_name);
    void clear();

  signals:
    void changed();

  private:
    BusLink& link_;
    const KioskConfig& config_;
    QString path_;
    QVariantMap values_;
    QString error_;
    QString documents_;
    bool printing_ = false;
    bool sent_now_ = false;
    QTimer poll_;
};

}  // namespace exhibit::kiosk
