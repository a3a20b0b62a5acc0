// The case and the agreement: case and exhibit references, whose phone it is, and either the
// owner's agreement to the force's notice (typed name and tick) or another lawful basis with
// the officer's reason. Validated with exhibitd's rules as the officer types (the reason is
// shown beside the field) and again by exhibitd. The notice's text and version come from
// exhibitd's GetNotice; the version shown is the version recorded. Thread-bound.
#pragma once

#include <QObject>
#include <QVariantMap>

namespace exhibit::kiosk {

class BusLink;

class CaseModel : public QObject {
    Q_OBJECT
    Q_PROPERTY(QString caseReference READ case_reference WRITE set_case_reference NOTIFY changed)
    Q_PROPERTY(
        QString exhibitReference READ exhibit_reference WRITE set_exhibit_reference NOTIFY changed)
    Q_PROPERTY(QString owner READ owner WRITE set_owner NOTIFY changed)
    Q_PROPERTY(QString caseError READ case_error NOTIFY changed)
    Q_PROPERTY(QString exhibitError READ exhibit_error NOTIFY changed)
    Q_PROPERTY(QString ownerError READ owner_error NOTIFY changed)
    Q_PROPERTY(bool caseValid READ case_valid NOTIFY changed)
    Q_PROPERTY(bool showErrors READ show_errors NOTIFY changed)

    Q_PROPERTY(QString basis READ basis WRITE set_basis NOTIFY changed)
    Q_PROPERTY(QString agreedBy READ agreed_by WRITE set_agreed_by NOTIFY changed)
    Q_PROPERTY(bool agreed READ agreed WRITE set_agreed NOTIFY changed)
    Q_PROPERTY(QString basisReason READ basis_reason WRITE set_basis_reason NOTIFY changed)
    Q_PROPERTY(QString agreedByError READ agreed_by_error NOTIFY changed)
    Q_PROPERTY(QString basisReasonError READ basis_reason_error NOTIFY changed)
    Q_PROPERTY(bool agreementValid READ agreement_valid NOTIFY changed)

    Q_PROPERTY(QString noticeVersion READ notice_version NOTIFY noticeChanged)
    Q_PROPERTY(QString noticeText READ notice_text NOTIFY noticeChanged)
    Q_PROPERTY(QString noticeError READ notice_error NOTIFY noticeChanged)
    Q_PROPERTY(bool noticeLoading READ notice_loading NOTIFY noticeChanged)

  public:
    explicit CaseModel(BusLink& link, QObject* parent = nullptr);

    QString case_reference() const { return case_reference_; }
    QString exhibit_reference() const { return exhibit_reference_; }
    QString owner() const { return owner_; }
    void set_case_reference(const QString& v);
    void set_exhibit_reference(const QString& v);
    void set_owner(const QString& v);
    QString case_error() const;
    QString exhibit_error() const;
    QString owner_error() const;
    bool case_valid() const;
    bool show_errors() const { return show_errors_; }

    QString basis() const { return basis_; }
    QString agreed_by() const { return agreed_by_; }
    bool agreed() const { return agreed_; }
    QString basis_reason() const { return basis_reason_; }
    void set_basis(const QString& v);
    void set_agreed_by(const QString& v);
    void set_agreed(bool v);
    void set_basis_reason(const QString& v);
    QString agreed_by_error() const;
    QString basis_reason_error() const;
    bool agreement_valid() const;

    QString notice_version() const { return notice_version_; }
    QString notice_text() const { return notice_text_; }
    QString notice_error() const { return notice_error_; }
    bool notice_loading() const { return notice_loading_; }

    // Shows every field's reason from now on (after a Next with something missing).
    Q_INVOKABLE void revealErrors();
    Q_INVOKABLE void loadNotice();
    // The case keys for StartExtraction (officer_id is left to the signed-in connection).
    QVariantMap case_arguments() const;
    void clear();

  signals:
    void changed();
    void noticeChanged();

  private:
    BusLink& link_;
    QString case_reference_, exhibit_reference_, owner_;
    QString basis_ = QStringLiteral("consent");
    QString agreed_by_, basis_reason_;
    bool agreed_ = false;
    bool show_errors_ = false;
    QString notice_version_, notice_text_, notice_error_;
    bool notice_loading_ = false;
};

}  // namespace exhibit::kiosk
