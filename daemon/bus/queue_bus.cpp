// The upload queue's object, /org/exhibit/Exhibit1/queue: properties from the uploader's
// status, SyncNow, SetPriority, CancelUpload, RetryUpload, RetryManifest and RetryFailed for
// admins.
#include <fmt/format.h>

#include "daemon/bus/bus_internal.hpp"
#include "daemon/upload/uploader.hpp"

namespace exhibit::bus {

namespace {

// FailedUploads lists at most this many (ItemsFailed counts them all).
constexpr std::size_t kMaxFailedListed = 100;

Error no_uploads() {
    return Error{Errc::unsupported, "uploads are not configured on this kiosk ([upload] endpoint)",
                 0};
}

int queue_property(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply,
                   void* userdata, sd_bus_error* error) noexcept {
    try {
        auto* up = service_of(userdata)->uploader();
        upload::UploaderStatus st;
        if (up) {
            auto s = up->status();
            if (!s)
                return sd_bus_error_set(error, error_name(s.error()), s.error().describe().c_str());
            st = std::move(*s);
        }
        const auto& q = st.queue;
        std::string_view p = property;
        auto ms = [](const std::optional<TimePoint>& t) {
            return t ? to_unix_ms(*t) : std::int64_t{0};
        };
        if (p == "ItemsQueued")
            return sd_bus_message_append(reply, "t", q.items.queued);
        if (p == "ItemsUploading")
            return sd_bus_message_append(reply, "t", q.items.uploading);
        if (p == "ItemsReceived")
            return sd_bus_message_append(reply, "t", q.items.received);
        if (p == "ItemsFailed")
            return sd_bus_message_append(reply, "t", q.items.failed);
        if (p == "BytesPending")
            return sd_bus_message_append(reply, "t", q.bytes_pending);
        if (p == "OldestUnsentItem")
            return sd_bus_message_append(
                reply, "t", static_cast<std::uint64_t>(q.oldest_unsent_item.value_or(0)));
        if (p == "OldestUnsentSince")
            return sd_bus_message_append(reply, "x", ms(q.oldest_unsent_since));
        if (p == "LastSuccessfulUpload")
            return sd_bus_message_append(reply, "x", ms(q.last_success));
        if (p == "CurrentError") {
            auto e = up ? st.last_error.value_or(q.last_error.value_or("")) : no_uploads().message;
            return sd_bus_message_append(reply, "s", e.c_str());
        }
        if (p == "WindowOpen")
            return sd_bus_message_append(reply, "b", st.window_open);
        if (p == "SyncRequested")
            return sd_bus_message_append(reply, "b", q.sync_requested);
        if (p == "BytesSentThisRun")
            return sd_bus_message_append(reply, "t", st.bytes_sent);
        if (p == "ActiveUploads")
            return sd_bus_message_append(reply, "t", static_cast<std::uint64_t>(st.active.size()));
        if (p == "FailedUploads") {
            std::vector<upload::FailedJob> failed;
            if (up) {
                auto f = up->failed_jobs(kMaxFailedListed);
                if (!f)
                    return sd_bus_error_set(error, error_name(f.error()),
                                            f.error().describe().c_str());
                failed = std::move(*f);
            }
            int r = sd_bus_message_open_container(reply, 'a', "s");
            for (const auto& job : failed) {
                if (r < 0)
                    break;
                const auto line = fmt::format("{}: {}", upload::describe(job.key), job.reason);
                r = sd_bus_message_append(reply, "s", line.c_str());
            }
            return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        return -ENOENT;
    } catch (...) {
        return -EIO;
    }
}

template <class F>
int admin_method(sd_bus_message* m, void* userdata, F&& body) noexcept {
    return method_for(Role::admin, m, userdata, std::forward<F>(body));
}

int method_sync_now(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return admin_method(m, userdata, [&](BusService* svc) {
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        if (!svc->uploader())
            return svc->reply_error(m, no_uploads());
        if (auto s = svc->uploader()->request_sync(admin_actor(m)); !s)
            return svc->reply_error(m, s.error());
        return sd_bus_reply_method_return(m, "");
    });
}

int method_set_priority(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return admin_method(m, userdata, [&](BusService* svc) {
        std::uint64_t item = 0;
        const char* lane = nullptr;
        if (int r = sd_bus_message_read(m, "ts", &item, &lane); r < 0)
            return svc->reply_error(m, bus_error(r, "bad arguments"));
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        auto l = upload::lane_from(lane ? lane : "");
        if (!l)
            return svc->reply_error(
                m, Error{Errc::invalid_argument, "lane must be \"urgent\" or \"normal\"", 0});
        if (!svc->uploader())
            return svc->reply_error(m, no_uploads());
        if (item == 0 || item > INT64_MAX)
            return svc->reply_error(m, Error{Errc::not_found, "there is no item 0", 0});
        if (auto s = svc->uploader()->set_lane(static_cast<std::int64_t>(item), *l, admin_actor(m));
            !s)
            return svc->reply_error(m, s.error());
        return sd_bus_reply_method_return(m, "");
    });
}

// An admin method taking (t id, a{sv} options), `what` naming the id ("item", "session"):
// `act(uploader, id, actor)`.
template <class F>
int id_method(sd_bus_message* m, void* userdata, std::string_view what, F&& act) noexcept {
    return admin_method(m, userdata, [&](BusService* svc) {
        std::uint64_t id = 0;
        if (int r = sd_bus_message_read(m, "t", &id); r < 0)
            return svc->reply_error(m, bus_error(r, fmt::format("bad {}", what)));
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        if (!svc->uploader())
            return svc->reply_error(m, no_uploads());
        if (id == 0 || id > INT64_MAX)
            return svc->reply_error(
                m, Error{Errc::not_found, fmt::format("there is no {} {}", what, id), 0});
        if (Status s = act(*svc->uploader(), static_cast<std::int64_t>(id), admin_actor(m)); !s)
            return svc->reply_error(m, s.error());
        return sd_bus_reply_method_return(m, "");
    });
}

int method_cancel_upload(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return id_method(m, userdata, "item",
                     [](upload::Uploader& up, std::int64_t item, const auto& actor) {
                         return up.cancel_item(item, actor);
                     });
}

int method_retry_upload(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return id_method(m, userdata, "item",
                     [](upload::Uploader& up, std::int64_t item, const auto& actor) {
                         return up.retry({upload::JobKind::item, item}, actor);
                     });
}

int method_retry_manifest(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return id_method(m, userdata, "session",
                     [](upload::Uploader& up, std::int64_t session, const auto& actor) {
                         return up.retry({upload::JobKind::manifest, session}, actor);
                     });
}

int method_retry_failed(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    return admin_method(m, userdata, [&](BusService* svc) {
        if (auto s = read_no_options(m); !s)
            return svc->reply_error(m, s.error());
        if (!svc->uploader())
            return svc->reply_error(m, no_uploads());
        auto n = svc->uploader()->retry_failed(admin_actor(m));
        if (!n)
            return svc->reply_error(m, n.error());
        return sd_bus_reply_method_return(m, "t", *n);
    });
}

#define EXHIBIT_QUEUE_RO(name, sig) EXHIBIT_RO(name, sig, queue_property)

const sd_bus_vtable kQueueVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES("SyncNow", "a{sv}", SD_BUS_PARAM(options), "", , method_sync_now,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("SetPriority", "tsa{sv}",
                             SD_BUS_PARAM(item) SD_BUS_PARAM(lane) SD_BUS_PARAM(options), "", ,
                             method_set_priority, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("CancelUpload", "ta{sv}", SD_BUS_PARAM(item) SD_BUS_PARAM(options), "",
                             , method_cancel_upload, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("RetryUpload", "ta{sv}", SD_BUS_PARAM(item) SD_BUS_PARAM(options), "",
                             , method_retry_upload, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("RetryManifest", "ta{sv}", SD_BUS_PARAM(session) SD_BUS_PARAM(options),
                             "", , method_retry_manifest, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("RetryFailed", "a{sv}", SD_BUS_PARAM(options), "t",
                             SD_BUS_PARAM(retried), method_retry_failed,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    EXHIBIT_QUEUE_RO("ItemsQueued", "t"),
    EXHIBIT_QUEUE_RO("ItemsUploading", "t"),
    EXHIBIT_QUEUE_RO("ItemsReceived", "t"),
    EXHIBIT_QUEUE_RO("ItemsFailed", "t"),
    EXHIBIT_QUEUE_RO("BytesPending", "t"),
    EXHIBIT_QUEUE_RO("OldestUnsentItem", "t"),
    EXHIBIT_QUEUE_RO("OldestUnsentSince", "x"),
    EXHIBIT_QUEUE_RO("LastSuccessfulUpload", "x"),
    EXHIBIT_QUEUE_RO("CurrentError", "s"),
    EXHIBIT_QUEUE_RO("WindowOpen", "b"),
    EXHIBIT_QUEUE_RO("SyncRequested", "b"),
    EXHIBIT_QUEUE_RO("ActiveUploads", "t"),
    EXHIBIT_QUEUE_RO("BytesSentThisRun", "t"),
    EXHIBIT_QUEUE_RO("FailedUploads", "as"),
    SD_BUS_VTABLE_END};

}  // namespace

Status export_queue(sd_bus* bus, BusService* service, std::vector<SlotPtr>& slots) {
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_add_object_vtable(bus, &slot, kQueuePath, kQueueInterface, kQueueVtable, service);
    return keep_slot(r, slot, slots, "the queue");
}

void emit_queue_changed(sd_bus* bus) {
    (void)sd_bus_emit_properties_changed(
        bus, kQueuePath, kQueueInterface, "ItemsQueued",
        "ItemsUploading", "ItemsReceived", "ItemsFailed", "BytesPending", "OldestUnsentItem",
        "OldestUnsentSince", "LastSuccessfulUpload", "CurrentError", "WindowOpen", "SyncRequested",
        "ActiveUploads", "BytesSentThisRun", "FailedUploads", nullptr);
}

}  // namespace exhibit::bus
