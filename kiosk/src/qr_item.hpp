// A QR code of a text (the manifest's SHA-256), drawn by libqrencode's matrix: as a QML item
// (QrCode) on the receipt screen and as an image for the PDF receipt. Thread-bound item;
// qr_code_image is reentrant.
#pragma once

#include <QImage>
#include <QQuickPaintedItem>

namespace exhibit::kiosk {

// Black modules on white with a 4-module quiet zone, `module_px` pixels per module; a null
// image when the text cannot be encoded.
QImage qr_code_image(const QString& text, int module_px);

class QrItem : public QQuickPaintedItem {
    Q_OBJECT
    Q_PROPERTY(QString text READ text WRITE set_text NOTIFY textChanged)

  public:
    explicit QrItem(QQuickItem* parent = nullptr);
    QString text() const { return text_; }
    void set_text(const QString& t);
    void paint(QPainter* painter) override;

  signals:
    void textChanged();

  private:
    QString text_;
    QImage image_;
};

}  // namespace exhibit::kiosk
