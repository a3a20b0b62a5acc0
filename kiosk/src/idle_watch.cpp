#include "idle_watch.hpp"

#include <QCoreApplication>
#include <QEvent>

namespace exhibit::kiosk {

IdleWatch::IdleWatch(int seconds, QObject* parent) : QObject(parent) {
    timer_.setSingleShot(true);
    timer_.setInterval(seconds * 1000);
    connect(&timer_, &QTimer::timeout, this, &IdleWatch::idle);
    QCoreApplication::instance()->installEventFilter(this);
}

void IdleWatch::set_seconds(int s) {
    if (s < 1)
        return;
    timer_.setInterval(s * 1000);
    restart();
    emit secondsChanged();
}

void IdleWatch::set_armed(bool armed) {
    armed_ = armed;
    restart();
}

void IdleWatch::set_paused(bool paused) {
    paused_ = paused;
    restart();
}

void IdleWatch::restart() {
    if (armed_ && !paused_)
        timer_.start();
    else
        timer_.stop();
}

bool IdleWatch::eventFilter(QObject* watched, QEvent* event) {
    switch (event->type()) {
        case QEvent::TouchBegin:
        case QEvent::TouchUpdate:
        case QEvent::TouchEnd:
        case QEvent::MouseButtonPress:
        case QEvent::MouseButtonRelease:
        case QEvent::KeyPress:
            if (timer_.isActive())
                timer_.start();
            break;
        default:
            break;
    }
    return QObject::eventFilter(watched, event);
}

}  // namespace exhibit::kiosk
