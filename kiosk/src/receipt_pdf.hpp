// The paper side of the receipt: a PDF for the case file (every field, items and bytes per
// category, the manifest's SHA-256 as text and QR code) and an easy-read copy for the
// phone's owner (what was taken, why, where it goes, how to ask about it), written with
// QPdfWriter. Printed through CUPS (`lp -d PRINTER`) when a printer is configured, else
// saved in the receipt folder. Holds no evidence: only the receipt's words. Reentrant.
#pragma once

#include <QString>
#include <QVariantList>
#include <QVariantMap>

namespace exhibit::kiosk {

class KioskConfig;

struct ReceiptText {
    QVariantMap values;       // GetReceipt's reply
    QVariantList categories;  // {name, label, items, bytes, bytesText}
    QString delivery, device, basis, officer_name, contact, force_name;
};

// Writes both PDFs into `folder`; returns their paths (case file, easy read), or empty
// strings and `error` set.
std::pair<QString, QString> write_receipts(const ReceiptText& r, const QString& folder,
                                           QString* error);
// Writes both and prints them when a printer is configured; a sentence saying what happened.
QString write_and_print(const ReceiptText& r, const KioskConfig& config);

}  // namespace exhibit::kiosk
