// The kiosk's own settings (not exhibitd's): /etc/exhibit/kiosk.conf, an INI file read once
// at start. Keys in [kiosk]: idle_seconds (default 180), printer (a CUPS queue; empty: no
// printer, the documents are saved), lp_command (default "lp"), receipt_folder (where PDF
// receipts are saved), contact (how the owner asks about their data, printed on the
// easy-read copy), force_name. Immutable after load; reentrant.
#pragma once

#include <QString>

namespace exhibit::kiosk {

class KioskConfig {
  public:
    // Reads `path`; a missing file gives the defaults. Sets `problem` to a sentence when a
    // value is unusable (that key keeps its default).
    static KioskConfig load(const QString& path, QString* problem = nullptr);

    int idle_seconds() const { return idle_seconds_; }
    QString printer() const { return printer_; }
    QString lp_command() const { return lp_command_; }
    QString receipt_folder() const { return receipt_folder_; }
    QString contact() const { return contact_; }
    QString force_name() const { return force_name_; }

  private:
    int idle_seconds_ = 180;
    QString printer_;
    QString lp_command_ = QStringLiteral("lp");
    QString receipt_folder_ = QStringLiteral("/var/lib/exhibit-kiosk/receipts");
    QString contact_;
    QString force_name_;
};

}  // namespace exhibit::kiosk
