// Officer sign-in: the officer number and PIN typed on the on-screen keypad, checked by
// exhibitd's SignIn, which binds this kiosk's D-Bus connection to the officer. The PIN is
// held only until the call is sent, never logged, never exposed to QML (only its length).
// Thread-bound.
#pragma once

#include <QObject>
#include <QString>

namespace exhibit::kiosk {

class BusLink;

class OfficerModel : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString typedId READ typed_id NOTIFY changed)
    Q_PROPERTY(int pinLength READ pin_length NOTIFY changed)
    Q_PROPERTY(QString field READ field WRITE set_field NOTIFY changed)
    Q_PROPERTY(bool busy READ busy NOTIFY changed)
    Q_PROPERTY(QString error READ error NOTIFY changed)
    Q_PROPERTY(bool signedIn READ signed_in NOTIFY signedInChanged)
    Q_PROPERTY(QString officerId READ officer_id NOTIFY signedInChanged)
    Q_PROPERTY(QString officerName READ officer_name NOTIFY signedInChanged)
    Q_PROPERTY(QString notice READ notice NOTIFY changed)

  public:
    explicit OfficerModel(BusLink& link, QObject* parent = nullptr);

    QString typed_id() const { return typed_id_; }
    int pin_length() const { return static_cast<int>(pin_.size()); }
    QString field() const { return field_; }
    void set_field(const QString& f);
    bool busy() const { return busy_; }
    QString error() const { return error_; }
    bool signed_in() const { return !officer_id_.isEmpty(); }
    QString officer_id() const { return officer_id_; }
    QString officer_name() const { return officer_name_; }
    QString notice() const { return notice_; }

    // A keypad key: "0".."9", "back" or "clear", typed into the current field.
    Q_INVOKABLE void press(const QString& key);
    Q_INVOKABLE void signIn();
    // Ends the sign-in here and at exhibitd; clears what was typed.
    Q_INVOKABLE void signOut();
    // Forgets the sign-in without calling exhibitd (it restarted and forgot it already);
    // `why` is shown on the sign-in screen.
    void forget(const QString& why);
    void clear();

  signals:
    void changed();
    void signedInChanged();

  private:
    void wipe_pin();

    BusLink& link_;
    QString typed_id_;
    QString pin_;
    QString field_ = QStringLiteral("id");
    bool busy_ = false;
    QString error_;
    QString notice_;
    QString officer_id_;
    QString officer_name_;
};

}  // namespace exhibit::kiosk
