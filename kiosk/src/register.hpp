// What the app and the Qt Quick tests both do before loading QML: the QML types of the kiosk
// and the "kiosk" context property.
#pragma once

class QQmlEngine;

namespace exhibit::kiosk {

class Kiosk;

// Registers QrCode (import Exhibit.Kiosk 1.0); once per process.
void register_types();
// register_types(), and sets `kiosk` in the engine's root context.
void register_qml(QQmlEngine& engine, Kiosk& kiosk);

}  // namespace exhibit::kiosk
