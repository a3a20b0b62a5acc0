// What the app and the Qt Quick tests both do before loading QML: the QML types of the kiosk
// and the "kiosk" context property.
#pragma once

class QQmlEngine;

namespace exhibit::kiosk {

class Kiosk;

// Registers QrCode (import Exhibit.Kiosk 1.0) and sets `kiosk` in the root context.
void register_qml(QQmlEngine& engine, Kiosk& kiosk);

}  // namespace exhibit::kiosk
