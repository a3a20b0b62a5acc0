#include "scope_model.hpp"

#include <algorithm>

#include <QDBusObjectPath>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>

#include "bus_link.hpp"
#include "error_text.hpp"
#include "format.hpp"
#include "validation.hpp"

namespace exhibit::kiosk {

namespace {
const char* const kCategories[] = {"photos",      "videos",   "audio",    "documents",
                                   "messages",    "call_log", "contacts", "apps",
                                   "device_info", "cctv_export", "disk_image"};
constexpr int kDebounceMs = 300;

// Categories only a removable disk offers: never named as missing on a phone.
bool disk_only(const QString& name) {
    return name == QLatin1String("cctv_export") || name == QLatin1String("disk_image");
}

bool filtered_by_numbers(const QString& name) {
    return name == QLatin1String("messages") || name == QLatin1String("call_log");
}
}  // namespace

ScopeModel::ScopeModel(BusLink& link, QObject* parent) : QAbstractListModel(parent), link_(link) {
    for (const char* c : kCategories) {
        const QString name = QString::fromLatin1(c);
        if (!disk_only(name))  // offered once a device says it offers it
            rows_.push_back(categories_.size());
        categories_.push_back({.name = name, .offered = !disk_only(name)});
    }
    debounce_.setSingleShot(true);
    debounce_.setInterval(kDebounceMs);
    connect(&debounce_, &QTimer::timeout, this, &ScopeModel::preview);
}

int ScopeModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QVariant ScopeModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const auto& c = row(index.row());
    switch (role) {
        case NameRole:
            return c.name;
        case LabelRole:
            return category_name(c.name);
        case SelectedRole:
            return c.selected;
        case CountRole:
            return c.count;
        case BytesRole:
            return c.bytes;
        case CountTextRole:
            if (!c.known)
                return tr("counting…");
            if (c.name == QLatin1String("device_info") || c.name == QLatin1String("disk_image"))
                return format_bytes(c.bytes);
            return tr("%1 · %2").arg(c.count).arg(format_bytes(c.bytes));
        case FilteredRole:
            return filtered_by_numbers(c.name) && !numbers_.isEmpty();
        default:
            return {};
    }
}

QHash<int, QByteArray> ScopeModel::roleNames() const {
    return {{NameRole, "name"},        {LabelRole, "label"}, {SelectedRole, "selected"},
            {CountRole, "count"},      {BytesRole, "bytes"}, {CountTextRole, "countText"},
            {FilteredRole, "filtered"}};
}

QString ScopeModel::from() const {
    return from_.isValid() ? from_.toString(Qt::ISODate) : QString();
}
QString ScopeModel::to() const {
    return to_.isValid() ? to_.toString(Qt::ISODate) : QString();
}
QString ScopeModel::from_text() const {
    return from_.isValid() ? from_.toString(QStringLiteral("d MMM yyyy")) : tr("the first day");
}
QString ScopeModel::to_text() const {
    return to_.isValid() ? to_.toString(QStringLiteral("d MMM yyyy")) : tr("today");
}
QString ScopeModel::range_error() const {
    return check_range(from_, to_);
}

void ScopeModel::set_urgent(bool v) {
    if (v == urgent_)
        return;
    urgent_ = v;
    emit changed();
}

bool ScopeModel::any_selected() const {
    for (const auto& c : categories_)
        if (c.selected)
            return true;
    return false;
}

QString ScopeModel::summary() const {
    QStringList parts;
    qulonglong bytes = 0;
    bool all_known = true;
    for (const auto& c : categories_) {
        if (!c.selected)
            continue;
        parts << category_count(c.name, c.count);
        bytes += c.bytes;
        all_known = all_known && c.known;
    }
    if (parts.isEmpty())
        return tr("Nothing is chosen yet: tap what the owner agreed to.");
    if (!all_known)
        return tr("Counting what the phone holds…");
    QString text = tr("%1: %2; nothing else is copied.")
                       .arg(parts.join(QStringLiteral(", ")), format_bytes(bytes));
    if (from_.isValid() || to_.isValid())
        text += QLatin1Char(' ') + tr("Only from %1 to %2.").arg(from_text(), to_text());
    if (!numbers_.isEmpty())
        text += QLatin1Char(' ') +
                tr("Messages and calls only with %1.").arg(numbers_.join(QStringLiteral(", ")));
    return text;
}

void ScopeModel::toggle(int row) {
    if (row < 0 || row >= rowCount())
        return;
    auto& c = this->row(row);
    c.selected = !c.selected;
    emit dataChanged(index(row), index(row));
    emit changed();
}

void ScopeModel::setFrom(const QString& day) {
    from_ = day.isEmpty() ? QDate() : QDate::fromString(day, Qt::ISODate);
    emit changed();
    schedule();
}

void ScopeModel::setTo(const QString& day) {
    to_ = day.isEmpty() ? QDate() : QDate::fromString(day, Qt::ISODate);
    emit changed();
    schedule();
}

bool ScopeModel::addNumber(const QString& number) {
    number_error_ = check_number(number);
    if (number_error_.isEmpty() && numbers_.size() >= kMaxNumbers)
        number_error_ = tr("At most 20 numbers.");
    const QString clean = clean_number(number);
    if (number_error_.isEmpty() && numbers_.contains(clean))
        number_error_ = tr("That number is already in the list.");
    if (!number_error_.isEmpty()) {
        emit changed();
        return false;
    }
    numbers_ << clean;
    emit changed();
    rows_changed();
    schedule();
    return true;
}

void ScopeModel::removeNumber(int i) {
    if (i < 0 || i >= numbers_.size())
        return;
    numbers_.removeAt(i);
    number_error_.clear();
    emit changed();
    rows_changed();
    schedule();
}

void ScopeModel::rows_changed() {
    if (rowCount() > 0)
        emit dataChanged(index(0), index(rowCount() - 1));
}

void ScopeModel::set_device(const QString& path, const std::optional<QStringList>& categories,
                            const QString& note) {
    const bool offer_changed = offer(categories, note);
    if (path == device_ && !offer_changed)
        return;
    device_ = path;
    schedule();
}

bool ScopeModel::offer(const std::optional<QStringList>& categories, const QString& note) {
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < categories_.size(); ++i)
        // Without the device's word (an exhibitd from before Categories, or no device yet):
        // what any phone can give, none of a disk's own choices.
        if (categories ? categories->contains(categories_[i].name)
                       : !disk_only(categories_[i].name))
            rows.push_back(i);
    if (rows == rows_ && note == note_)
        return false;
    beginResetModel();
    rows_ = std::move(rows);
    note_ = note;
    for (std::size_t i = 0; i < categories_.size(); ++i) {
        auto& c = categories_[i];
        c.offered = std::ranges::find(rows_, i) != rows_.end();
        c.selected = c.selected && c.offered;
        c.known = false;  // counted again, for what is offered now
    }
    if (!numbers_offered()) {
        numbers_.clear();
        number_error_.clear();
    }
    endResetModel();
    emit changed();
    return true;
}

bool ScopeModel::numbers_offered() const {
    return std::ranges::any_of(categories_,
                               [](const Category& c) { return c.offered && filtered_by_numbers(c.name); });
}

QString ScopeModel::offer_note() const {
    QString why = note_.trimmed();
    if (!why.isEmpty()) {
        why[0] = why[0].toUpper();
        if (!why.endsWith(QLatin1Char('.')))
            why += QLatin1Char('.');
    }
    // A removable disk (it offers what only disks hold) is no phone: its family's note says
    // what it holds, without a list of a phone's records it cannot have.
    const bool disk = std::ranges::any_of(
        categories_, [](const Category& c) { return c.offered && disk_only(c.name); });
    if (disk)
        return why;
    QStringList missing;
    for (const auto& c : categories_)
        if (!c.offered && !disk_only(c.name))
            missing << category_name(c.name).toLower();
    if (missing.isEmpty())
        return {};
    const QString last = missing.takeLast();
    QString text = missing.isEmpty() ? tr("%1 cannot be copied from this phone.").arg(last)
                                     : tr("%1 and %2 cannot be copied from this phone.")
                                           .arg(missing.join(QStringLiteral(", ")), last);
    text[0] = text[0].toUpper();
    if (!why.isEmpty())
        text += QLatin1Char(' ') + why;
    return text;
}

void ScopeModel::schedule() {
    if (device_.isEmpty() || rows_.empty() || !range_error().isEmpty())
        return;
    const bool was = previewing();
    debounce_.start();
    if (!was)
        emit changed();
}

QVariantMap ScopeModel::preview_scope() const {
    QStringList offered;
    for (const auto& c : categories_)
        if (c.offered)
            offered << c.name;
    return scope_of(offered);
}

QVariantMap ScopeModel::scope_of(const QStringList& categories) const {
    QVariantMap s = {{QStringLiteral("categories"), categories}};
    if (from_.isValid())
        s.insert(QStringLiteral("from"), from());
    if (to_.isValid())
        s.insert(QStringLiteral("to"), to());
    if (!numbers_.isEmpty())
        s.insert(QStringLiteral("numbers"), numbers_);
    return s;
}

void ScopeModel::preview() {
    if (device_.isEmpty()) {
        emit changed();  // the debounce ended: nothing is counting
        return;
    }
    if (in_flight_) {
        again_ = true;
        return;
    }
    in_flight_ = true;
    emit changed();
    const QString device = device_;
    auto call = link_.manager().Preview(QDBusObjectPath(device), preview_scope(), {});
    auto* w = new QDBusPendingCallWatcher(call, this);
    connect(w, &QDBusPendingCallWatcher::finished, this, [this, w, device] {
        QDBusPendingReply<PreviewCounts> r = *w;
        w->deleteLater();
        in_flight_ = false;
        if (device == device_) {
            if (r.isError()) {
                preview_error_ = error_sentence(r.error());
            } else {
                preview_error_.clear();
                const auto counts = r.value();
                for (auto& c : categories_) {
                    const auto it = counts.find(c.name);
                    c.count = it == counts.end() ? 0 : it->count;
                    c.bytes = it == counts.end() ? 0 : it->bytes;
                    c.known = true;
                }
                rows_changed();
            }
        }
        emit changed();
        if (std::exchange(again_, false))
            preview();
    });
}

QVariantMap ScopeModel::scope_arguments() const {
    QStringList chosen;
    for (const auto& c : categories_)
        if (c.selected)
            chosen << c.name;
    return scope_of(chosen);
}

QVariantMap ScopeModel::start_options() const {
    return {{QStringLiteral("priority"),
             urgent_ ? QStringLiteral("urgent") : QStringLiteral("normal")}};
}

void ScopeModel::clear() {
    debounce_.stop();
    beginResetModel();
    rows_.clear();
    for (std::size_t i = 0; i < categories_.size(); ++i) {
        auto& c = categories_[i];
        c = Category{.name = c.name, .offered = !disk_only(c.name)};
        if (c.offered)
            rows_.push_back(i);
    }
    note_.clear();
    endResetModel();
    from_ = to_ = QDate();
    numbers_.clear();
    number_error_.clear();
    urgent_ = false;
    device_.clear();
    preview_error_.clear();
    again_ = false;
    emit changed();
}

}  // namespace exhibit::kiosk
