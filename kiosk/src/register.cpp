#include "register.hpp"

#include <QQmlContext>
#include <QQmlEngine>

#include "kiosk.hpp"
#include "qr_item.hpp"

namespace exhibit::kiosk {

void register_qml(QQmlEngine& engine, Kiosk& kiosk) {
    qmlRegisterType<QrItem>("Exhibit.Kiosk", 1, 0, "QrCode");
    engine.rootContext()->setContextProperty(QStringLiteral("kiosk"), &kiosk);
}

}  // namespace exhibit::kiosk
