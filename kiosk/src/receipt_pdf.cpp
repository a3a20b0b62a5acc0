#include "receipt_pdf.hpp"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QProcess>
#include <QRegularExpression>

#include "format.hpp"
#include "kiosk_config.hpp"
#include "qr_item.hpp"
#include "receipt_model.hpp"

namespace exhibit::kiosk {

namespace {
QString tr(const char* text) {
    return QCoreApplication::translate("ReceiptPdf", text);
}

QString v(const ReceiptText& r, const char* key) {
    const auto s = r.values.value(QString::fromLatin1(key)).toString();
    return s.isEmpty() ? QStringLiteral("-") : s;
}

// Lays out text top to bottom on A4 pages of a QPdfWriter at 300 dpi.
class Page {
  public:
    explicit Page(QPdfWriter& w) : writer_(w), painter_(&w) {
        width_ = w.width();
        height_ = w.height();
    }
    bool ok() const { return painter_.isActive(); }
    void heading(const QString& text, int pt) {
        QFont f(QStringLiteral("DejaVu Sans"), pt, QFont::Bold);
        block(text, f);
        y_ += 20;
    }
    void para(const QString& text, int pt = 11) {
        block(text, QFont(QStringLiteral("DejaVu Sans"), pt));
        y_ += 15;
    }
    void row(const QString& key, const QString& value, int pt = 11) {
        QFont kf(QStringLiteral("DejaVu Sans"), pt, QFont::Bold);
        QFont vf(QStringLiteral("DejaVu Sans"), pt);
        const int key_w = width_ / 3;
        painter_.setFont(vf);
        QRect vr = painter_.boundingRect(QRect(key_w, 0, width_ - key_w, 100000),
                                         Qt::TextWrapAnywhere, value);
        ensure(vr.height());
        painter_.setFont(kf);
        painter_.drawText(QRect(0, y_, key_w - 20, vr.height()), Qt::TextWordWrap, key);
        painter_.setFont(vf);
        painter_.drawText(QRect(key_w, y_, width_ - key_w, vr.height()), Qt::TextWrapAnywhere,
                          value);
        y_ += vr.height() + 12;
    }
    void image(const QImage& img, int side) {
        ensure(side);
        painter_.drawImage(QRect(0, y_, side, side), img);
        y_ += side + 20;
    }
    void gap(int px) { y_ += px; }

  private:
    void block(const QString& text, const QFont& f) {
        painter_.setFont(f);
        QRect r = painter_.boundingRect(QRect(0, 0, width_, 100000), Qt::TextWordWrap, text);
        ensure(r.height());
        painter_.drawText(QRect(0, y_, width_, r.height()), Qt::TextWordWrap, text);
        y_ += r.height();
    }
    void ensure(int h) {
        if (y_ + h > height_ && y_ > 0) {
            writer_.newPage();
            y_ = 0;
        }
    }
    QPdfWriter& writer_;
    QPainter painter_;
    int width_ = 0, height_ = 0, y_ = 0;
};

void setup(QPdfWriter& w, const QString& title) {
    w.setPageSize(QPageSize(QPageSize::A4));
    w.setResolution(300);
    w.setPageMargins(QMarginsF(18, 18, 18, 18), QPageLayout::Millimeter);
    w.setTitle(title);
    w.setCreator(QStringLiteral("exhibit-kiosk"));
}

bool write_case_file(const ReceiptText& r, const QString& path) {
    QPdfWriter w(path);
    setup(w, tr("Extraction receipt"));
    Page p(w);
    if (!p.ok())
        return false;
    const QString title = r.force_name.isEmpty()
                              ? tr("Phone extraction receipt")
                              : tr("%1: phone extraction receipt").arg(r.force_name);
    p.heading(title, 18);
    p.row(tr("Case reference"), v(r, "case_reference"));
    p.row(tr("Exhibit reference"), v(r, "exhibit_reference"));
    p.row(tr("Officer"), r.officer_name.isEmpty()
                             ? v(r, "officer_id")
                             : QStringLiteral("%1 (%2)").arg(v(r, "officer_id"), r.officer_name));
    p.row(tr("Whose phone"), v(r, "owner"));
    p.row(tr("Lawful basis"), r.basis);
    p.row(tr("Phone"), r.device);
    p.row(tr("What was chosen"), v(r, "scope"));
    p.row(tr("Started"), format_time_ms(r.values.value(QStringLiteral("started")).toLongLong()));
    p.row(tr("Ended"), format_time_ms(r.values.value(QStringLiteral("ended")).toLongLong()));
    p.row(tr("Outcome"), QStringLiteral("%1 %2").arg(
                             v(r, "state"), r.values.value(QStringLiteral("reason")).toString()));
    p.row(tr("Kiosk"), v(r, "kiosk_id"));
    p.gap(20);
    p.heading(tr("Items copied"), 13);
    for (const auto& c : r.categories) {
        const auto m = c.toMap();
        const auto n = m.value(QStringLiteral("items")).toULongLong();
        p.row(m.value(QStringLiteral("label")).toString(),
              QStringLiteral("%1, %2").arg(n == 1 ? tr("1 item") : tr("%1 items").arg(n),
                                           m.value(QStringLiteral("bytesText")).toString()));
    }
    const auto bytes = r.values.value(QStringLiteral("bytes")).toULongLong();
    p.row(tr("Total"), tr("%1 items (%2 incomplete), %3 (%4 bytes)")
                           .arg(r.values.value(QStringLiteral("items")).toULongLong())
                           .arg(r.values.value(QStringLiteral("items_incomplete")).toULongLong())
                           .arg(format_bytes(bytes))
                           .arg(bytes));
    p.gap(20);
    p.heading(tr("Seal (SHA-256 of what was copied, as it was copied)"), 13);
    p.para(seal_text(r.values), 11);
    const QImage qr =
        qr_code_image(r.values.value(QStringLiteral("seal_sha256")).toString(), 8);
    if (!qr.isNull())
        p.image(qr, 600);
    p.row(tr("Delivery"), r.delivery);
    p.gap(40);
    p.para(tr("Officer's signature: ______________________    Date: ____________"));
    return true;
}

bool write_easy_read(const ReceiptText& r, const QString& path) {
    QPdfWriter w(path);
    setup(w, tr("What we copied from your phone"));
    Page p(w);
    if (!p.ok())
        return false;
    p.heading(tr("What we copied from your phone"), 24);
    p.para(tr("Reference: %1").arg(v(r, "case_reference")), 16);
    p.heading(tr("What we took"), 18);
    QStringList parts;
    for (const auto& c : r.categories) {
        const auto m = c.toMap();
        parts << category_count(m.value(QStringLiteral("name")).toString(),
                                m.value(QStringLiteral("items")).toULongLong());
    }
    p.para(parts.isEmpty() ? tr("Nothing.") : parts.join(QStringLiteral(", ")) + QLatin1Char('.'),
           16);
    p.para(tr("We copied only these things. We did not copy anything else. Nothing on your "
              "phone was changed or deleted."),
           16);
    p.heading(tr("Why"), 18);
    p.para(tr("To investigate the crime you told us about. We only look for what is relevant "
              "to it."),
           16);
    p.heading(tr("Where it goes"), 18);
    p.para(tr("The copy is sealed with a code and sent safely to the police's digital "
              "evidence team. Only people working on the case can see it."),
           16);
    p.heading(tr("How to ask about it"), 18);
    p.para(r.contact.isEmpty() ? tr("Ask the officer, or call 101 and give the reference above.")
                               : r.contact,
           16);
    p.para(tr("You can ask what we are doing with your data, and you can ask us to stop "
              "using it. Refusing does not stop the investigation on its own."),
           16);
    return true;
}

QString safe_name(const QString& s) {
    QString out = s;
    out.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9_-]+")), QStringLiteral("_"));
    return out.left(60);
}
}  // namespace

std::pair<QString, QString> write_receipts(const ReceiptText& r, const QString& folder,
                                           QString* error) {
    if (!QDir().mkpath(folder)) {
        if (error)
            *error = tr("cannot create the folder %1").arg(folder);
        return {};
    }
    const QString stem =
        QStringLiteral("%1/%2-%3")
            .arg(folder, safe_name(v(r, "case_reference")),
                 QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
    const QString case_file = stem + QStringLiteral("-receipt.pdf");
    const QString easy = stem + QStringLiteral("-easy-read.pdf");
    if (!write_case_file(r, case_file) || !write_easy_read(r, easy)) {
        if (error)
            *error = tr("cannot write into %1").arg(folder);
        return {};
    }
    return {case_file, easy};
}

QString write_and_print(const ReceiptText& r, const KioskConfig& config) {
    QString error;
    auto [case_file, easy] = write_receipts(r, config.receipt_folder(), &error);
    if (case_file.isEmpty())
        return tr("The receipts could not be saved (%1). Write the seal code down by hand and "
                  "call the kiosk administrator.")
            .arg(error);
    if (config.printer().isEmpty())
        return tr("No printer is set up. The receipts are saved for the case file: %1 and the "
                  "owner's easy-read copy %2.")
            .arg(case_file, easy);
    QProcess lp;
    lp.setProcessChannelMode(QProcess::MergedChannels);
    lp.start(config.lp_command(), {QStringLiteral("-d"), config.printer(), case_file, easy});
    const bool done = lp.waitForFinished(15'000);
    const QString said = QString::fromUtf8(lp.readAll()).trimmed().left(200);
    if (!done || lp.exitStatus() != QProcess::NormalExit || lp.exitCode() != 0) {
        if (lp.state() != QProcess::NotRunning)
            lp.kill();
        return tr("The printer %1 did not take the receipts (%2). They are saved: %3 and %4.")
            .arg(config.printer(), said.isEmpty() ? tr("no answer") : said, case_file, easy);
    }
    return tr("Printed on %1: the receipt for the case file and the owner's easy-read copy.")
        .arg(config.printer());
}

}  // namespace exhibit::kiosk
