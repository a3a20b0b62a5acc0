// Numbers and times in words for the screens and the receipts. Reentrant.
#pragma once

#include <QString>

namespace exhibit::kiosk {

QString format_bytes(qulonglong bytes);          // "9.5 MiB", "812 bytes"
QString format_duration(qint64 seconds);         // "1 h 04 min", "3 min 20 s", "12 s"
QString format_time_ms(qint64 ms_since_epoch);   // "4 Dec 2026 15:02" local time, "-" for 0
QString category_name(const QString& category);  // "photos" -> "Photos", "call_log" -> "Call log"
// "24 photos", "1 video", "7 messages": a count with the category's word.
QString category_count(const QString& category, qulonglong count);

}  // namespace exhibit::kiosk
