// A tiny AFC client no one here wrote the protocol side of: libimobiledevice 1.3.0's own afc_*
// API, through lockdownd (handshake and session) and com.apple.afc. Debian 12 ships no
// afcclient, so the tests run this to try what the kiosk must never do.
//
//   afc_referee open-write PATH | mkdir PATH | remove PATH | read PATH | list PATH
//
// Prints "afc_error=<n>" (and for read "bytes=<n>"; for list, twice, "entries=<n>" and then
// one "name=<name>" per entry, bytes outside printable ASCII as \xHH); exits 0 when the call
// was made, 2 when the device could not be reached.
#include <libimobiledevice/afc.h>
#include <libimobiledevice/libimobiledevice.h>
#include <libimobiledevice/lockdown.h>

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: afc_referee open-write|mkdir|remove|read PATH\n");
        return 64;
    }
    std::string what = argv[1];
    const char* path = argv[2];
    idevice_t device = nullptr;
    if (idevice_new(&device, nullptr) != IDEVICE_E_SUCCESS) {
        std::fprintf(stderr, "no device\n");
        return 2;
    }
    lockdownd_client_t lockdown = nullptr;
    if (lockdownd_client_new_with_handshake(device, &lockdown, "afc_referee") !=
        LOCKDOWN_E_SUCCESS) {
        std::fprintf(stderr, "no lockdown session\n");
        idevice_free(device);
        return 2;
    }
    lockdownd_service_descriptor_t service = nullptr;
    afc_client_t afc = nullptr;
    if (lockdownd_start_service(lockdown, "com.apple.afc", &service) != LOCKDOWN_E_SUCCESS ||
        afc_client_new(device, service, &afc) != AFC_E_SUCCESS) {
        std::fprintf(stderr, "no afc\n");
        return 2;
    }
    afc_error_t err = AFC_E_SUCCESS;
    if (what == "open-write") {
        uint64_t handle = 0;
        err = afc_file_open(afc, path, AFC_FOPEN_WRONLY, &handle);
        if (err == AFC_E_SUCCESS) {
            uint32_t written = 0;
            afc_file_write(afc, handle, "x", 1, &written);
            afc_file_close(afc, handle);
        }
    } else if (what == "mkdir") {
        err = afc_make_directory(afc, path);
    } else if (what == "remove") {
        err = afc_remove_path(afc, path);
    } else if (what == "read") {
        uint64_t handle = 0;
        err = afc_file_open(afc, path, AFC_FOPEN_RDONLY, &handle);
        uint64_t total = 0;
        if (err == AFC_E_SUCCESS) {
            char buf[65536];
            uint32_t got = 0;
            while ((err = afc_file_read(afc, handle, buf, sizeof buf, &got)) == AFC_E_SUCCESS &&
                   got > 0)
                total += got;
            afc_file_close(afc, handle);
        }
        std::printf("bytes=%llu\n", static_cast<unsigned long long>(total));
    } else if (what == "list") {
        for (int round = 0; round < 2 && err == AFC_E_SUCCESS; ++round) {
            char** names = nullptr;
            err = afc_read_directory(afc, path, &names);
            if (err != AFC_E_SUCCESS)
                break;
            int count = 0;
            while (names && names[count])
                ++count;
            std::printf("entries=%d\n", count);
            for (int i = 0; round == 0 && i < count; ++i) {
                std::string shown;
                for (const char* c = names[i]; *c; ++c) {
                    auto u = static_cast<unsigned char>(*c);
                    if (u >= 0x20 && u < 0x7f) {
                        shown += *c;
                    } else {
                        char hex[5];
                        std::snprintf(hex, sizeof hex, "\\x%02x", u);
                        shown += hex;
                    }
                }
                std::printf("name=%s\n", shown.c_str());
            }
            afc_dictionary_free(names);
        }
    }
    std::printf("afc_error=%d\n", static_cast<int>(err));
    afc_client_free(afc);
    lockdownd_service_descriptor_free(service);
    lockdownd_client_free(lockdown);
    idevice_free(device);
    return 0;
}
