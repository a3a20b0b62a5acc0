// Qt Quick Test runner for exhibit-kiosk: the real QML, driven by touch, against real
// exhibitd, exhibit-phonesim over the emulated USB bus and the real tus server (see
// kiosk_harness.hpp). Runs with the offscreen platform and the software scene graph.
#include <QQmlContext>
#include <QQmlEngine>
#include <QtQuickTest>

#include "kiosk/src/register.hpp"
#include "tests/kiosk/kiosk_harness.hpp"

class Setup : public QObject {
    Q_OBJECT
  public slots:
    void qmlEngineAvailable(QQmlEngine* engine) {
        exhibit::kiosk::register_types();
        harness_ = new exhibit::testing::Harness(*engine, engine);
        engine->rootContext()->setContextProperty(QStringLiteral("harness"), harness_);
        engine->rootContext()->setContextProperty(QStringLiteral("kiosk"), nullptr);
    }

  private:
    exhibit::testing::Harness* harness_ = nullptr;
};

QUICK_TEST_MAIN_WITH_SETUP(kiosk, Setup)

#include "kiosk_test.moc"
