// The child's side of the driver host (exhibit-driver-host): serves one device to exhibitd
// over the framed protocol of host_protocol.hpp. The program's main (daemon/exhibitd/
// driver_host_main.cpp) confines the process and picks the family; this part is the same
// for every family.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "drivers/driver.hpp"
#include "drivers/host/host_protocol.hpp"

namespace exhibit::host {

// Opens the device exhibitd named, as the family's Driver::open does.
using OpenDevice = std::function<Result<std::unique_ptr<drivers::DriverSession>>(
    const HostedDevice&, const drivers::OpenContext&)>;

// What a driver host gives up before it reads anything of a device: it ends as soon as
// exhibitd's end of the socket closes (a thread watches for it), can gain no privilege (PR_SET_NO_NEW_PRIVS), closes every descriptor
// above kHostSocket, may not write a byte to a file (RLIMIT_FSIZE 0), nor dump core, nor grow
// its data past `memory_limit` (RLIMIT_DATA). With `keep_device`, kDeviceFd (the device
// exhibitd opened for it) is kept as well. Errc::io naming the step that failed.
Status confine_driver_host(std::uint64_t memory_limit, bool keep_device = false);

// What a driver host gives up once its device is open, before it lists or reads anything of
// it: a system call filter (seccomp, default allow) under which opening any file, making a
// socket, connecting, running a program, changing the file system, signalling another
// process, tracing one, or using io_uring, bpf, userfaultfd or perf fails with EPERM. The
// descriptors it already holds (the device, the socket to exhibitd) keep working.
// The time zone is read first (libmtp's dates use mktime()). Once loaded, later calls do
// nothing (a family may load it itself, between opening its device and reading it).
Status forbid_reaching_out();

// For a family whose device asks the kiosk to prove who it is (HostedDriverOptions::
// device_key), while it opens the device: asks exhibitd over `fd` to sign the device's
// challenge, or for the public key to offer, and waits for the answer. exhibitd's refusal as
// it sent it; Errc::protocol for an answer that is not one.
Result<std::vector<std::byte>> ask_signature(int fd, std::span<const std::byte> challenge);
Result<std::string> ask_public_key(int fd);

// Reads the `open` request from `fd`, opens the device (reports while it waits for its owner
// become `report` frames), forbids reaching out (above), answers, then answers requests
// until exhibitd closes its end. `filter_first`: the device is already open (kDeviceFd), so
// the filter is loaded before the request is read, and opening runs under it too.
// Returns the process's exit status: 0 when exhibitd closed its end, 1 when `fd` failed,
// 2 when exhibitd sent something this protocol does not have.
int serve_device(int fd, const OpenDevice& open, bool filter_first = false);

}  // namespace exhibit::host
