// Signs the officer out after a time without a touch: an event filter on the application
// sees every touch, mouse and key event and restarts the timer. Paused while a copy runs
// (nobody needs to touch the screen then). Thread-bound.
#pragma once

#include <QObject>
#include <QTimer>

namespace exhibit::kiosk {

class IdleWatch : public QObject {
    Q_OBJECT
    Q_PROPERTY(int seconds READ seconds WRITE set_seconds NOTIFY secondsChanged)

  public:
    explicit IdleWatch(int seconds, QObject* parent = nullptr);
    int seconds() const { return timer_.interval() / 1000; }
    void set_seconds(int s);
    // Watching only matters while someone is signed in or has typed something.
    void set_armed(bool armed);
    void set_paused(bool paused);

  signals:
    void idle();
    void secondsChanged();

  protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

  private:
    void restart();
    QTimer timer_;
    bool armed_ = false;
    bool paused_ = false;
};

}  // namespace exhibit::kiosk
