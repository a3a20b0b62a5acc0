#include "kiosk.hpp"

#include "bus_link.hpp"
#include "case_model.hpp"
#include "devices_model.hpp"
#include "idle_watch.hpp"
#include "officer_model.hpp"
#include "receipt_model.hpp"
#include "scope_model.hpp"
#include "session_model.hpp"
#include "status_model.hpp"

namespace exhibit::kiosk {

namespace {
bool signed_in_screen(const QString& s) {
    return s == QLatin1String("case") || s == QLatin1String("phone") ||
           s == QLatin1String("notice") || s == QLatin1String("scope") ||
           s == QLatin1String("copying") || s == QLatin1String("receipt");
}
}  // namespace

Kiosk::Kiosk(const QString& bus_address, KioskConfig config, QObject* parent)
    : QObject(parent), config_(std::move(config)) {
    link_ = new BusLink(bus_address, this);
    officer_ = new OfficerModel(*link_, this);
    devices_ = new DevicesModel(*link_, this);
    case_ = new CaseModel(*link_, this);
    scope_ = new ScopeModel(*link_, this);
    session_ = new SessionModel(*link_, this);
    receipt_ = new ReceiptModel(*link_, config_, this);
    status_ = new StatusModel(*link_, this);
    idle_ = new IdleWatch(config_.idle_seconds(), this);

    connect(link_, &BusLink::lost, this, &Kiosk::on_lost);
    connect(link_, &BusLink::returned, this, &Kiosk::on_returned);
    connect(officer_, &OfficerModel::signedInChanged, this, [this] {
        if (officer_->signed_in())
            on_signed_in();
    });
    connect(officer_, &OfficerModel::changed, this, &Kiosk::update_idle);
    connect(idle_, &IdleWatch::idle, this, [this] {
        const bool someone =
            officer_->signed_in() || officer_->pin_length() > 0 || !officer_->typed_id().isEmpty();
        const int s = idle_->seconds();
        const QString span = s % 60 != 0 ? tr("%1 seconds").arg(s)
                             : s == 60   ? tr("1 minute")
                                         : tr("%1 minutes").arg(s / 60);
        reset_all(someone ? tr("Signed out after %1 without a touch. Everything typed was "
                               "cleared.")
                                .arg(span)
                          : QString());
    });
    connect(devices_, &DevicesModel::chosenGone, this, [this] {
        if (screen_ == QLatin1String("notice") || screen_ == QLatin1String("scope"))
            go(QStringLiteral("phone"));
    });
    connect(devices_, &DevicesModel::chosenChanged, this, [this] {
        if (screen_ == QLatin1String("scope") || screen_ == QLatin1String("notice"))
            set_scope_device();
    });
    connect(session_, &SessionModel::started, this, [this] { go(QStringLiteral("copying")); });
    connect(session_, &SessionModel::completed, this, [this] {
        update_idle();
        if (session_->state() == QLatin1String("completed") && screen_ == QLatin1String("copying"))
            showReceipt();
    });
}

Kiosk::~Kiosk() = default;

QString Kiosk::version() const {
    return QStringLiteral(EXHIBIT_KIOSK_VERSION);
}
QObject* Kiosk::link() const {
    return link_;
}
QObject* Kiosk::officer() const {
    return officer_;
}
QObject* Kiosk::devices() const {
    return devices_;
}
QObject* Kiosk::record() const {
    return case_;
}
QObject* Kiosk::scope() const {
    return scope_;
}
QObject* Kiosk::session() const {
    return session_;
}
QObject* Kiosk::receipt() const {
    return receipt_;
}
QObject* Kiosk::status() const {
    return status_;
}
QObject* Kiosk::idle() const {
    return idle_;
}

void Kiosk::go(const QString& screen) {
    if (screen == screen_)
        return;
    screen_ = screen;
    if (screen == QLatin1String("ready"))
        status_->refresh();
    if (screen == QLatin1String("notice"))
        case_->loadNotice();
    if (screen == QLatin1String("scope"))
        set_scope_device();
    update_idle();
    emit screenChanged();
}

void Kiosk::set_scope_device() {
    scope_->set_device(devices_->chosen_path(), devices_->chosen_categories(),
                       devices_->chosen_categories_note());
}

void Kiosk::update_idle() {
    const bool typed = officer_->pin_length() > 0 || !officer_->typed_id().isEmpty();
    idle_->set_armed(screen_ != QLatin1String("ready") || typed);
    idle_->set_paused(session_->running() || session_->starting());
}

void Kiosk::dismissMessage() {
    message_.clear();
    emit messageChanged();
}

void Kiosk::beginSignIn() {
    dismissMessage();
    officer_->clear();
    go(QStringLiteral("signin"));
}

void Kiosk::on_signed_in() {
    dismissMessage();
    QString to = resume_.isEmpty() ? QStringLiteral("case") : resume_;
    // After a restart the phone is a new object: confirm it on the phone screen first; the
    // agreement and the scope typed so far are kept.
    if (to == QLatin1String("notice") || to == QLatin1String("scope"))
        to = QStringLiteral("phone");
    resume_.clear();
    go(to);
}

void Kiosk::next() {
    if (screen_ == QLatin1String("case")) {
        if (!case_->case_valid()) {
            case_->revealErrors();
            return;
        }
        devices_->refresh();
        go(QStringLiteral("phone"));
    } else if (screen_ == QLatin1String("phone")) {
        if (devices_->chosen_ready())
            go(QStringLiteral("notice"));
    } else if (screen_ == QLatin1String("notice")) {
        if (!case_->agreement_valid()) {
            case_->revealErrors();
            return;
        }
        go(QStringLiteral("scope"));
    }
}

void Kiosk::back() {
    if (screen_ == QLatin1String("signin"))
        finish();
    else if (screen_ == QLatin1String("phone"))
        go(QStringLiteral("case"));
    else if (screen_ == QLatin1String("notice"))
        go(QStringLiteral("phone"));
    else if (screen_ == QLatin1String("scope"))
        go(QStringLiteral("notice"));
}

void Kiosk::startCopy() {
    if (screen_ != QLatin1String("scope") || !scope_->valid() || !case_->case_valid() ||
        !case_->agreement_valid() || devices_->chosen_path().isEmpty())
        return;
    session_->start(devices_->chosen_path(), case_->case_arguments(), scope_->scope_arguments(),
                    scope_->start_options());
    update_idle();
}

void Kiosk::showReceipt() {
    if (session_->path().isEmpty())
        return;
    receipt_->load(session_->path());
    go(QStringLiteral("receipt"));
}

void Kiosk::finish() {
    reset_all(QString());
}

void Kiosk::reset_all(const QString& message) {
    if (session_->running())
        session_->cancel();  // never leave a copy running for nobody (not reachable: paused)
    officer_->signOut();
    case_->clear();
    scope_->clear();
    session_->clear();
    receipt_->clear();
    devices_->reset();
    resume_.clear();
    message_ = message;
    emit messageChanged();
    go(QStringLiteral("ready"));
}

void Kiosk::on_lost() {
    // exhibitd forgot the sign-in with its connection: the officer signs in again, and what
    // was typed is kept so the journey carries on where it was.
    const bool mid_journey = signed_in_screen(screen_) || officer_->signed_in();
    session_->lose();
    if (!mid_journey)
        return;
    resume_ = screen_;
    if (resume_ == QLatin1String("copying") || resume_ == QLatin1String("receipt"))
        resume_ = session_->path().isEmpty() ? QStringLiteral("scope") : QStringLiteral("receipt");
    if (resume_ == QLatin1String("receipt") && !session_->path().isEmpty())
        receipt_->load(session_->path());
    officer_->forget(
        tr("The kiosk restarted. Sign in again to carry on: what was typed is "
           "kept."));
    go(QStringLiteral("signin"));
}

void Kiosk::on_returned() {
    status_->refresh();
}

}  // namespace exhibit::kiosk
