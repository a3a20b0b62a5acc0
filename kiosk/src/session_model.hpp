// One extraction as the officer follows it: started with StartExtraction, followed through
// the session object's PropertiesChanged and its Completed signal (no polling), cancelled
// with Session.Cancel. Says in words what was kept and what was not. No evidence byte ever
// passes through the kiosk: it only reads counters. Thread-bound.
#pragma once

#include <QDBusMessage>
#include <QObject>
#include <QVariantMap>
#include <memory>

class OrgExhibitExhibit1SessionInterface;

namespace exhibit::kiosk {

class BusLink;

class SessionModel : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString path READ path NOTIFY changed)
    Q_PROPERTY(bool starting READ starting NOTIFY changed)
    Q_PROPERTY(bool running READ running NOTIFY changed)
    Q_PROPERTY(bool finished READ finished NOTIFY changed)
    Q_PROPERTY(QString state READ state NOTIFY changed)
    Q_PROPERTY(double progress READ progress NOTIFY changed)
    Q_PROPERTY(QString bytesText READ bytes_text NOTIFY changed)
    Q_PROPERTY(QString itemsText READ items_text NOTIFY changed)
    Q_PROPERTY(QString rateText READ rate_text NOTIFY changed)
    Q_PROPERTY(QString timeLeftText READ time_left_text NOTIFY changed)
    Q_PROPERTY(QString currentItem READ current_item NOTIFY changed)
    Q_PROPERTY(QString outcome READ outcome NOTIFY changed)
    Q_PROPERTY(QString error READ error NOTIFY changed)

  public:
    explicit SessionModel(BusLink& link, QObject* parent = nullptr);
    ~SessionModel() override;

    QString path() const { return path_; }
    bool starting() const { return starting_; }
    bool running() const { return !path_.isEmpty() && !finished_; }
    bool finished() const { return finished_; }
    QString state() const;
    double progress() const;
    QString bytes_text() const;
    QString items_text() const;
    QString rate_text() const;
    QString time_left_text() const;
    QString current_item() const;
    QString outcome() const;
    QString error() const { return error_; }

    void start(const QString& device, const QVariantMap& case_args, const QVariantMap& scope,
               const QVariantMap& options);
    Q_INVOKABLE void cancel();
    // exhibitd went away: the session cannot be followed any more; says so.
    void lose();
    void clear();

  signals:
    void changed();
    void started();
    void completed();
    void failedToStart();

  private slots:
    void on_properties(const QString& iface, const QVariantMap& changed,
                       const QStringList& invalidated, const QDBusMessage& msg);
    void on_completed(const QString& state, const QString& reason);

  private:
    void follow(const QString& path);
    void fetch_all();
    qulonglong u(const char* key) const;

    BusLink& link_;
    QString path_;
    std::unique_ptr<OrgExhibitExhibit1SessionInterface> proxy_;
    QVariantMap props_;
    bool starting_ = false;
    bool finished_ = false;
    QString error_;
};

}  // namespace exhibit::kiosk
