#include "kiosk_harness.hpp"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QQmlContext>

#include "kiosk/src/kiosk.hpp"
#include "kiosk/src/register.hpp"
#include "tests/kiosk/kiosk_world.hpp"

namespace exhibit::testing {

namespace {
QString q(const std::string& s) {
    return QString::fromStdString(s);
}
std::vector<std::string> args_of(const QStringList& list) {
    std::vector<std::string> out;
    for (const auto& a : list)
        out.push_back(a.toStdString());
    return out;
}
QVariantMap result(const std::pair<int, std::string>& r) {
    return {{QStringLiteral("status"), r.first}, {QStringLiteral("output"), q(r.second)}};
}
}  // namespace

Harness::Harness(QQmlEngine& engine, QObject* parent) : QObject(parent), engine_(engine) {}

Harness::~Harness() {
    stop();
}

bool Harness::fail(const QString& why) {
    problem_ = why;
    emit problemChanged();
    return false;
}

bool Harness::start(const QVariantMap& options) {
    stop();
    // The previous Kiosk goes first: the QML that used it was destroyed with its test.
    engine_.rootContext()->setContextProperty(QStringLiteral("kiosk"), nullptr);
    kiosk_.reset();
    WorldOptions o;
    o.require_auth = options.value(QStringLiteral("auth"), QStringLiteral("require")).toString() ==
                     QLatin1String("require");
    o.scenario_json = options.value(QStringLiteral("scenario")).toString().toStdString();
    o.interfaces = options.value(QStringLiteral("interfaces")).toString().toStdString();
    o.mtp_locked = options.value(QStringLiteral("mtp_locked"), false).toBool();
    o.stick = options.value(QStringLiteral("stick"), false).toBool();
    o.iphone = options.value(QStringLiteral("iphone")).toString().toStdString();
    if (options.contains(QStringLiteral("notice_version")))
        o.notice_version = options.value(QStringLiteral("notice_version")).toString().toStdString();
    o.notice_text = options.value(QStringLiteral("notice_text")).toString().toStdString();
    world_ = std::make_unique<KioskWorld>(o);
    if (!world_->problem().empty())
        return fail(q(world_->problem()));
    auto config = kiosk::KioskConfig::load(q(world_->kiosk_config().string()));
    kiosk_ = std::make_unique<kiosk::Kiosk>(q(world_->bus_address()), config);
    kiosk::register_qml(engine_, *kiosk_);
    problem_.clear();
    emit problemChanged();
    return true;
}

void Harness::stop(const QString& test) {
    if (world_ && !test.isEmpty()) {
        const QString kept = shotDir(test) + QStringLiteral("/exhibitd.log");
        QFile::remove(kept);
        QFile::copy(q((world_->dir() / "exhibitd.log").string()), kept);
    }
    world_.reset();
}

QVariantMap Harness::exhibitctl(const QStringList& args) {
    if (!world_)
        return {};
    return result(world_->ctl(args_of(args)));
}

QVariantMap Harness::receipt(const QString& session) {
    if (!world_)
        return {};
    auto [rc, out] = world_->ctl({"receipt", session.toStdString(), "--json"});
    if (rc != 0)
        return {{QStringLiteral("error"), q(out)}};
    return QJsonDocument::fromJson(QByteArray::fromStdString(out)).toVariant().toMap();
}

QVariantMap Harness::verifyDfu() {
    return world_ ? result(world_->verify_dfu()) : QVariantMap{};
}

QStringList Harness::dfuManifests() {
    QStringList out;
    if (world_)
        for (const auto& m : world_->dfu_manifests())
            out << q(m);
    return out;
}

void Harness::phone(const QString& line) {
    if (world_)
        world_->phone(line.toStdString());
}

bool Harness::killDaemon() {
    return world_ && world_->kill_daemon();
}

bool Harness::releaseDaemon() {
    return world_ && world_->release_daemon();
}

bool Harness::setNotice(const QString& version, const QString& text) {
    return world_ && world_->set_notice(version.toStdString(), text.toStdString());
}

QString Harness::shotDir(const QString& test) const {
    QString root = qEnvironmentVariable("EXHIBIT_KIOSK_SHOTS");
    if (root.isEmpty())
        root = QStringLiteral(EXHIBIT_BINARY_DIR "/tests/kiosk-shots");
    const QString dir = root + QLatin1Char('/') + test;
    QDir().mkpath(dir);
    return dir;
}

QString Harness::shotPath(const QString& test, const QString& name) {
    const QString dir = shotDir(test);
    if (!shots_.contains(test))  // an earlier run's pictures would pass for this one's
        for (const auto& old : QDir(dir).entryList({QStringLiteral("*.png")}, QDir::Files))
            QFile::remove(dir + QLatin1Char('/') + old);
    const int n = ++shots_[test];
    return QStringLiteral("%1/%2-%3.png").arg(dir).arg(n, 2, 10, QLatin1Char('0')).arg(name);
}

bool Harness::fileExists(const QString& path) const {
    return QFileInfo(path).isFile() && QFileInfo(path).size() > 0;
}

QString Harness::officerPin(const QString& officer) const {
    for (const auto& o : test_officers())
        if (q(o.id) == officer)
            return q(o.pin);
    return {};
}

double Harness::peakRssKib() const {
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const auto& line : status.readAll().split('\n'))
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').first().toDouble();
    return -1;
}

}  // namespace exhibit::testing
