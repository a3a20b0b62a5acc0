#include "qr_item.hpp"

#include <qrencode.h>

#include <QPainter>
#include <memory>

namespace exhibit::kiosk {

namespace {
struct QrFree {
    void operator()(QRcode* c) const { QRcode_free(c); }
};
constexpr int kQuiet = 4;
}  // namespace

QImage qr_code_image(const QString& text, int module_px) {
    if (text.isEmpty() || module_px < 1)
        return {};
    const QByteArray data = text.toUtf8();
    std::unique_ptr<QRcode, QrFree> code(
        QRcode_encodeString8bit(data.constData(), 0, QR_ECLEVEL_M));
    if (!code)
        return {};
    const int n = code->width;
    const int side = (n + 2 * kQuiet) * module_px;
    QImage img(side, side, QImage::Format_RGB32);
    img.fill(Qt::white);
    QPainter p(&img);
    for (int y = 0; y < n; ++y)
        for (int x = 0; x < n; ++x)
            if (code->data[y * n + x] & 1)
                p.fillRect((x + kQuiet) * module_px, (y + kQuiet) * module_px, module_px, module_px,
                           Qt::black);
    return img;
}

QrItem::QrItem(QQuickItem* parent) : QQuickPaintedItem(parent) {
    setAntialiasing(false);
}

void QrItem::set_text(const QString& t) {
    if (t == text_)
        return;
    text_ = t;
    image_ = qr_code_image(t, 1);
    emit textChanged();
    update();
}

void QrItem::paint(QPainter* painter) {
    painter->fillRect(boundingRect(), Qt::white);
    if (image_.isNull())
        return;
    const qreal side = std::min(width(), height());
    // Whole pixels per module keep the modules sharp.
    const int module = std::max(1, static_cast<int>(side / image_.width()));
    const int drawn = module * image_.width();
    const QRect target(static_cast<int>((width() - drawn) / 2),
                       static_cast<int>((height() - drawn) / 2), drawn, drawn);
    painter->drawImage(target, image_);
}

}  // namespace exhibit::kiosk
