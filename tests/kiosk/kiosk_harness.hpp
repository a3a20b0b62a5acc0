// What the kiosk's Qt Quick tests run the real UI against, started afresh by each test
// function: a private dbus-daemon with the project's policy, the real tus server
// (@tus/server over HTTPS with a client certificate), exhibit-phonesim --usb plugging a
// generated phone into an emulated USB bus with exhibitd running on it (restartable), the
// officers and the notice exhibitd reads, and a new Kiosk (the app's models) on that bus.
// Exposed to QML as `harness`. Thread-bound (the GUI thread).
#pragma once

#include <QObject>
#include <QQmlEngine>
#include <QVariantMap>
#include <memory>

namespace exhibit::kiosk {
class Kiosk;
}

namespace exhibit::testing {

class KioskWorld;

class Harness : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString problem READ problem NOTIFY problemChanged)

  public:
    explicit Harness(QQmlEngine& engine, QObject* parent = nullptr);
    ~Harness() override;

    QString problem() const { return problem_; }

    // Starts everything; options: auth ("require" | "none"), scenario (a phonesim scenario
    // as JSON text), notice_version, notice_text. Sets the `kiosk` context property to a new
    // Kiosk on the private bus. False (and `problem`) when something did not start.
    Q_INVOKABLE bool start(const QVariantMap& options);
    // Stops everything; with a test name, keeps exhibitd's log beside that test's
    // screenshots (SHOTS/<test>/exhibitd.log) for whoever reads a failure.
    Q_INVOKABLE void stop(const QString& test = {});

    // exhibitctl --bus ADDRESS ARGS...: {status, output}.
    Q_INVOKABLE QVariantMap exhibitctl(const QStringList& args);
    // `exhibitctl receipt ID --json` parsed.
    Q_INVOKABLE QVariantMap receipt(const QString& session);
    // exhibit-verify of the DFU store with this kiosk's key fingerprint: {status, output}.
    Q_INVOKABLE QVariantMap verifyDfu();
    // The signed manifests the DFU store received, as text.
    Q_INVOKABLE QStringList dfuManifests();
    // A line for phonesim's control FIFO: "unplug", "plug", "allow".
    Q_INVOKABLE void phone(const QString& line);
    // SIGKILL exhibitd and keep it down until releaseDaemon(); true when it died.
    Q_INVOKABLE bool killDaemon();
    // Let the supervisor start exhibitd again; true once it runs.
    Q_INVOKABLE bool releaseDaemon();
    // Publishes a new notice for exhibitd (its notice file) and asks it to read it again.
    Q_INVOKABLE bool setNotice(const QString& version, const QString& text);
    // Where a test's screenshot goes: SHOTS/<test>/<NN>-<name>.png (folders made).
    Q_INVOKABLE QString shotPath(const QString& test, const QString& name);
    // SHOTS/<test>/ (made).
    QString shotDir(const QString& test) const;
    Q_INVOKABLE bool fileExists(const QString& path) const;
    Q_INVOKABLE QString officerPin(const QString& officer) const;
    // This process's peak resident set (VmHWM), in KiB: the kiosk's models and QML, without
    // the processes the harness started.
    Q_INVOKABLE double peakRssKib() const;

  signals:
    void problemChanged();

  private:
    bool fail(const QString& why);
    QQmlEngine& engine_;
    std::unique_ptr<KioskWorld> world_;
    std::unique_ptr<kiosk::Kiosk> kiosk_;
    QString problem_;
    QMap<QString, int> shots_;
};

}  // namespace exhibit::testing
