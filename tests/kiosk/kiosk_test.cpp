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
  public:
    // Before the application exists: as in exhibit-kiosk's main, the keyboard is the
    // InputPanel in the window, never its own window (which would take the focus).
    Setup() { qputenv("QT_VIRTUALKEYBOARD_DESKTOP_DISABLE", "1"); }

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
