// The one place where a D-Bus error becomes a sentence for the officer: what happened and
// what to do. Never shows a raw error name. Reentrant.
#pragma once

#include <QDBusError>
#include <QString>

namespace exhibit::kiosk {

// `name` is the D-Bus error name, `message` exhibitd's sentence (may be empty).
QString error_sentence(const QString& name, const QString& message);
inline QString error_sentence(const QDBusError& e) {
    return error_sentence(e.name(), e.message());
}

}  // namespace exhibit::kiosk
