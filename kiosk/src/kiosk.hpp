// The kiosk's flow: which screen is shown, the moves between screens, and what happens on
// idle, on sign-out and when exhibitd goes away and returns. Owns every model and hands them
// to QML (which only presents). Thread-bound (the GUI thread).
#pragma once

#include <QObject>
#include <QString>

#include "kiosk_config.hpp"

namespace exhibit::kiosk {

class BusLink;
class CaseModel;
class DevicesModel;
class IdleWatch;
class OfficerModel;
class ReceiptModel;
class ScopeModel;
class SessionModel;
class StatusModel;

class Kiosk : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString screen READ screen NOTIFY screenChanged)
    Q_PROPERTY(QString message READ message NOTIFY messageChanged)
    Q_PROPERTY(QString version READ version CONSTANT)
    Q_PROPERTY(QObject* link READ link CONSTANT)
    Q_PROPERTY(QObject* officer READ officer CONSTANT)
    Q_PROPERTY(QObject* devices READ devices CONSTANT)
    Q_PROPERTY(QObject* record READ record CONSTANT)
    Q_PROPERTY(QObject* scope READ scope CONSTANT)
    Q_PROPERTY(QObject* session READ session CONSTANT)
    Q_PROPERTY(QObject* receipt READ receipt CONSTANT)
    Q_PROPERTY(QObject* status READ status CONSTANT)
    Q_PROPERTY(QObject* idle READ idle CONSTANT)

  public:
    // `bus_address` empty: the system bus.
    Kiosk(const QString& bus_address, KioskConfig config, QObject* parent = nullptr);
    ~Kiosk() override;

    QString screen() const { return screen_; }
    QString message() const { return message_; }
    QString version() const;
    QObject* link() const;
    QObject* officer() const;
    QObject* devices() const;
    QObject* record() const;
    QObject* scope() const;
    QObject* session() const;
    QObject* receipt() const;
    QObject* status() const;
    QObject* idle() const;

    Q_INVOKABLE void beginSignIn();
    Q_INVOKABLE void next();
    Q_INVOKABLE void back();
    Q_INVOKABLE void startCopy();
    Q_INVOKABLE void showReceipt();
    // Finish (receipt) and Sign out (any screen): signs out, clears every field, Ready.
    Q_INVOKABLE void finish();
    Q_INVOKABLE void dismissMessage();

  signals:
    void screenChanged();
    void messageChanged();

  private:
    void go(const QString& screen);
    void reset_all(const QString& message);
    void on_lost();
    void on_returned();
    void on_signed_in();
    void update_idle();
    // The chosen phone, with what its family can give, to the scope.
    void set_scope_device();

    KioskConfig config_;
    BusLink* link_;
    OfficerModel* officer_;
    DevicesModel* devices_;
    CaseModel* case_;
    ScopeModel* scope_;
    SessionModel* session_;
    ReceiptModel* receipt_;
    StatusModel* status_;
    IdleWatch* idle_;
    QString screen_ = QStringLiteral("ready");
    QString resume_;  // where to carry on after signing in again
    QString message_;
};

}  // namespace exhibit::kiosk
