// exhibit-kiosk: the officer's touchscreen. Usage:
//   exhibit-kiosk [--bus ADDRESS] [--config FILE] [--window WxH] [--report-ready]
//                 [--exit-when-ready]
// --bus: exhibitd's bus (default: the system bus); --config: the kiosk's settings (default
// /etc/exhibit/kiosk.conf); --window: a window of that size instead of full screen;
// --report-ready: print "ready screen shown after N ms" once the Ready screen is on screen
// with exhibitd connected (bench/kiosk/run uses it); --exit-when-ready: then quit.
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQuickWindow>
#include <QTimer>
#include <QTranslator>
#include <cstdio>
#include <memory>

#include "bus_link.hpp"
#include "kiosk.hpp"
#include "register.hpp"

using exhibit::kiosk::Kiosk;
using exhibit::kiosk::KioskConfig;

int main(int argc, char** argv) {
    QElapsedTimer since_start;
    since_start.start();
    if (qEnvironmentVariableIsEmpty("QT_IM_MODULE"))
        qputenv("QT_IM_MODULE", "qtvirtualkeyboard");
    // The keyboard is the InputPanel inside the kiosk's window: never a second top-level
    // keyboard window (which would also take the focus away from the field being typed in).
    qputenv("QT_VIRTUALKEYBOARD_DESKTOP_DISABLE", "1");
    QGuiApplication app(argc, argv);
    QGuiApplication::setApplicationName(QStringLiteral("exhibit-kiosk"));
    QGuiApplication::setApplicationVersion(QStringLiteral(EXHIBIT_KIOSK_VERSION));

    QCommandLineParser cli;
    cli.setApplicationDescription(QStringLiteral("The officer's touchscreen of an exhibit kiosk."));
    cli.addHelpOption();
    cli.addVersionOption();
    QCommandLineOption bus(QStringLiteral("bus"),
                           QStringLiteral("exhibitd's D-Bus address (default: the system bus)."),
                           QStringLiteral("ADDRESS"));
    QCommandLineOption config(QStringLiteral("config"),
                              QStringLiteral("the kiosk's settings file."), QStringLiteral("FILE"),
                              QStringLiteral("/etc/exhibit/kiosk.conf"));
    QCommandLineOption window(QStringLiteral("window"),
                              QStringLiteral("a window of this size instead of full screen."),
                              QStringLiteral("WxH"));
    QCommandLineOption report(QStringLiteral("report-ready"),
                              QStringLiteral("print when the Ready screen is shown."));
    QCommandLineOption exit_ready(QStringLiteral("exit-when-ready"),
                                  QStringLiteral("quit once the Ready screen is shown."));
    cli.addOptions({bus, config, window, report, exit_ready});
    cli.process(app);

    int width = 0, height = 0;
    if (cli.isSet(window)) {
        const auto parts = cli.value(window).split(QLatin1Char('x'));
        bool ok_w = false, ok_h = false;
        if (parts.size() == 2) {
            width = parts[0].toInt(&ok_w);
            height = parts[1].toInt(&ok_h);
        }
        if (!ok_w || !ok_h || width < 320 || height < 240) {
            std::fprintf(stderr, "exhibit-kiosk: --window takes WIDTHxHEIGHT, e.g. 1280x800\n");
            return 2;
        }
    }
    // A force's translation, if installed: every text goes through qsTr/tr, English is built in.
    QTranslator translator;
    if (translator.load(QLocale(), QStringLiteral("exhibit-kiosk"), QStringLiteral("_"),
                        QStringLiteral("/usr/share/exhibit-kiosk/translations")))
        QGuiApplication::installTranslator(&translator);

    QString problem;
    auto settings = KioskConfig::load(cli.value(config), &problem);
    if (!problem.isEmpty())
        std::fprintf(stderr, "exhibit-kiosk: %s (using the default)\n", qPrintable(problem));

    Kiosk kiosk(cli.value(bus), settings);
    QQmlApplicationEngine engine;
    exhibit::kiosk::register_qml(engine, kiosk);
    engine.load(QUrl(QStringLiteral("qrc:/exhibit/qml/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return 1;
    auto* win = qobject_cast<QQuickWindow*>(engine.rootObjects().first());
    if (!win)
        return 1;
    if (width > 0) {
        win->resize(width, height);
        win->show();
    } else {
        win->showFullScreen();
    }

    if (cli.isSet(report) || cli.isSet(exit_ready)) {
        auto* link = qobject_cast<exhibit::kiosk::BusLink*>(kiosk.link());
        const bool quit = cli.isSet(exit_ready);
        auto reported = std::make_shared<bool>(false);
        QObject::connect(win, &QQuickWindow::frameSwapped, &app, [&, link, quit, reported] {
            if (*reported || !link->online() || kiosk.screen() != QLatin1String("ready"))
                return;
            *reported = true;
            std::printf("ready screen shown after %lld ms\n",
                        static_cast<long long>(since_start.elapsed()));
            std::fflush(stdout);
            if (quit)
                QTimer::singleShot(0, &app, &QGuiApplication::quit);
        });
        // A frame is drawn only when something changes: ask for one when exhibitd appears.
        QObject::connect(link, &exhibit::kiosk::BusLink::onlineChanged, win,
                         [win] { win->update(); });
    }
    return app.exec();
}
