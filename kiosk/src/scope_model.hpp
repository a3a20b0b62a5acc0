// What will be copied: categories with live counts and sizes from exhibitd's Preview, a date
// range, and optionally, for messages and calls, only those with chosen phone numbers. Every
// change previews again after a short pause (debounced; one call at a time). The summary
// says in words what is copied and that nothing else is. Only the categories the chosen
// device's family can give are rows (its Categories property; all when the daemon does not
// say), and `offerNote` says in words why the others are not there. Thread-bound.
#pragma once

#include <QAbstractListModel>
#include <QDate>
#include <QTimer>
#include <QVariantMap>
#include <optional>
#include <vector>

namespace exhibit::kiosk {

class BusLink;

class ScopeModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(QString from READ from NOTIFY changed)
    Q_PROPERTY(QString to READ to NOTIFY changed)
    Q_PROPERTY(QString fromText READ from_text NOTIFY changed)
    Q_PROPERTY(QString toText READ to_text NOTIFY changed)
    Q_PROPERTY(QString rangeError READ range_error NOTIFY changed)
    Q_PROPERTY(QStringList numbers READ numbers NOTIFY changed)
    Q_PROPERTY(QString numberError READ number_error NOTIFY changed)
    Q_PROPERTY(bool urgent READ urgent WRITE set_urgent NOTIFY changed)
    Q_PROPERTY(QString summary READ summary NOTIFY changed)
    Q_PROPERTY(bool anySelected READ any_selected NOTIFY changed)
    Q_PROPERTY(bool previewing READ previewing NOTIFY changed)
    Q_PROPERTY(QString previewError READ preview_error NOTIFY changed)
    Q_PROPERTY(bool valid READ valid NOTIFY changed)
    Q_PROPERTY(QString offerNote READ offer_note NOTIFY changed)
    Q_PROPERTY(bool numbersOffered READ numbers_offered NOTIFY changed)

  public:
    enum Role {
        NameRole = Qt::UserRole + 1,
        LabelRole,
        SelectedRole,
        CountRole,
        BytesRole,
        CountTextRole,
        FilteredRole
    };

    explicit ScopeModel(BusLink& link, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    QString from() const;
    QString to() const;
    QString from_text() const;
    QString to_text() const;
    QString range_error() const;
    QStringList numbers() const { return numbers_; }
    QString number_error() const { return number_error_; }
    bool urgent() const { return urgent_; }
    void set_urgent(bool v);
    QString summary() const;
    bool any_selected() const;
    // Counting, or about to: counts shown during the debounce are for the scope before.
    bool previewing() const { return in_flight_ || debounce_.isActive(); }
    QString preview_error() const { return preview_error_; }
    bool valid() const { return any_selected() && range_error().isEmpty(); }
    // Empty when the device offers every category; otherwise which ones it cannot give and
    // why (the device's CategoriesNote), as a sentence for the officer.
    QString offer_note() const;
    // Whether the device can give messages or calls, the only categories numbers limit: the
    // numbers field is shown only then (and numbers are dropped when it cannot).
    bool numbers_offered() const;

    Q_INVOKABLE void toggle(int row);
    // "YYYY-MM-DD", or "" to clear.
    Q_INVOKABLE void setFrom(const QString& day);
    Q_INVOKABLE void setTo(const QString& day);
    // Adds a phone number; false (and numberError says why) when it is not one.
    Q_INVOKABLE bool addNumber(const QString& number);
    Q_INVOKABLE void removeNumber(int index);

    // The device to preview, with its Categories property (nullopt when exhibitd does not
    // have it: every category a phone can give is offered) and its CategoriesNote. A category it does not
    // offer is no row and is never selected.
    void set_device(const QString& path, const std::optional<QStringList>& categories,
                    const QString& note);
    // What Preview asks for: every offered category, with the dates and numbers chosen.
    QVariantMap preview_scope() const;
    // What StartExtraction takes: the selected categories, with the dates and numbers.
    QVariantMap scope_arguments() const;
    QVariantMap start_options() const;
    void clear();

  signals:
    void changed();

  private:
    struct Category {
        QString name;
        bool selected = false;
        qulonglong count = 0, bytes = 0;
        bool known = false;
        bool offered = true;
    };
    Category& row(int r) { return categories_[rows_[static_cast<std::size_t>(r)]]; }
    const Category& row(int r) const { return categories_[rows_[static_cast<std::size_t>(r)]]; }
    // Offers these categories (when nullopt, all a phone can give): rebuilds the rows,
    // unselects the others.
    // False when that was already the offer.
    bool offer(const std::optional<QStringList>& categories, const QString& note);
    void rows_changed();
    void schedule();
    void preview();
    // The scope argument of Preview and StartExtraction: these categories, with the dates
    // and numbers chosen.
    QVariantMap scope_of(const QStringList& categories) const;

    BusLink& link_;
    std::vector<Category> categories_;  // every category the kiosk knows, in screen order
    std::vector<std::size_t> rows_;     // the offered ones: indices into categories_
    QString note_;                      // the device's CategoriesNote
    QDate from_, to_;
    QStringList numbers_;
    QString number_error_;
    bool urgent_ = false;
    QString device_;
    QTimer debounce_;
    bool in_flight_ = false;
    bool again_ = false;
    QString preview_error_;
};

}  // namespace exhibit::kiosk
