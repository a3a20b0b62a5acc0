// The one RAII owner of a C library's handle: a std::unique_ptr whose stateless deleter calls
// the library's own release function, so that each kind of handle is declared once, next to
// the wrapper of its library, in one line (systemd's _cleanup_ helpers, as C++ types):
//
//   using BioPtr = CHandle<BIO, BIO_free>;
//
// The release function is called only for a non-null pointer, and what it returns (sd-bus
// returns the null pointer, OpenSSL's BIO_free an int) is dropped. Thread-compatible, like
// std::unique_ptr.
#pragma once

#include <memory>

namespace exhibit {

template <auto Release>
struct CRelease {
    template <class T>
    void operator()(T* p) const noexcept {
        if (p)
            (void)Release(p);
    }
};

template <class T, auto Release>
using CHandle = std::unique_ptr<T, CRelease<Release>>;

}  // namespace exhibit
