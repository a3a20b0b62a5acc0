#include "register.hpp"

#include <QQmlContext>
#include <QQmlEngine>

#include "kiosk.hpp"
#include "qr_item.hpp"

namespace exhibit::kiosk {

void register_types() {
    static const bool registered = [] {
        qmlRegisterType<QrItem>("Exhibit.Kiosk", 1, 0, "QrCode");
        return true;
    }();
    (void)registered;
}

void register_qml(QQmlEngine& engine, Kiosk& kiosk) {
    register_types();
    engine.rootContext()->setContextProperty(QStringLiteral("kiosk"), &kiosk);
}

}  // namespace exhibit::kiosk
