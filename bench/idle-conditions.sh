# CPU idle conditions for the benchmarks; sourced by bench/upload/run, bench/adb_pull and
# bench/usb_throughput (bash, after `set -euo pipefail`).
#
# On a virtual machine an idle vCPU halts, and waking it costs an exit to the hypervisor and
# a return. A benchmark runs both ends on one machine: the program that needs the least CPU
# leaves the other vCPU idle the most, so the other end's wakeups find it halted more often,
# and the timings measure the hypervisor as much as the programs. (The @tus/server of
# bench/upload, for example, has its main thread and file-writing threads wake each other
# about 100 000 times per GiB.) So every benchmark can run under three conditions, each
# reported on its own:
#   default  the machine as it is.
#   polled   a KVM guest's halt polling at the kernel's default (cpuidle-haltpoll's
#            guest_halt_poll_ns = 200000: an idle vCPU polls up to 200 µs before it halts, and
#            a wakeup within that needs no interrupt). Only where the machine has changed it
#            (a boot option of haltpoll.guest_halt_poll_ns=0 turns polling off); the machine's
#            value is put back when another condition is entered and by idle_restore.
#   held     the kernel's CPU latency request (/dev/cpu_dma_latency, the interface tuned and
#            cyclictest use) held at 0 µs: idle CPUs poll and never halt.
# None is neutral (a polling vCPU takes time from the host), and none is a kiosk, whose DFU
# store is another machine: all are reported. Targets are judged under held.
#
#   idle_valid LIST    whether LIST is "all" or a comma-separated list of the conditions
#   idle_choose LIST   sets idle_conditions=(...) to those of LIST this machine can enter, and
#                      says why for each it cannot; fails when none is left
#   idle_set COND      leaves the current condition and enters COND
#   idle_restore       the machine's own state again (call it from the EXIT trap)
#   idle_title COND    a few words naming COND, for reports

idle_usage="all, or a comma-separated list of default, polled, held"
idle_haltpoll=/sys/module/haltpoll/parameters/guest_halt_poll_ns
idle_haltpoll_default=200000
idle_haltpoll_saved=""  # the machine's own value while "polled" has replaced it
idle_qos_fd=""          # open while "held" holds the latency request
idle_conditions=()

idle_valid() { [[ $1 =~ ^(all|(default|polled|held)(,(default|polled|held))*)$ ]]; }

idle_choose() { # LIST
  local list=$1 cond why
  local -a wanted
  [[ $list == all ]] && list=default,polled,held
  idle_conditions=()
  IFS=, read -ra wanted <<<"$list"
  for cond in "${wanted[@]}"; do
    why=""
    case $cond in
      polled)
        if [[ ! -w $idle_haltpoll ]]; then
          why="no writable $idle_haltpoll (not a KVM guest with cpuidle-haltpoll, or not root)"
        elif [[ $(<"$idle_haltpoll") == "$idle_haltpoll_default" ]]; then
          why="this machine already polls at the kernel's default: it is the default condition"
        fi ;;
      held)
        [[ -w /dev/cpu_dma_latency ]] || why="/dev/cpu_dma_latency is not writable (run as root)" ;;
    esac
    if [[ -n $why ]]; then echo "bench: not measuring $cond: $why"; continue; fi
    [[ " ${idle_conditions[*]} " == *" $cond "* ]] || idle_conditions+=("$cond")
  done
  ((${#idle_conditions[@]})) || { echo "bench: none of the idle conditions asked for ($1) can be entered here" >&2; return 1; }
}

idle_set() { # default | polled | held
  if [[ $1 != held && -n $idle_qos_fd ]]; then
    exec {idle_qos_fd}>&-
    idle_qos_fd=""
  fi
  if [[ $1 != polled && -n $idle_haltpoll_saved ]]; then
    echo "$idle_haltpoll_saved" >"$idle_haltpoll"
    idle_haltpoll_saved=""
  fi
  if [[ $1 == held && -z $idle_qos_fd ]]; then
    exec {idle_qos_fd}>/dev/cpu_dma_latency
    printf '0' >&"$idle_qos_fd"  # a hex string: 0 µs; held while the file stays open
  elif [[ $1 == polled && -z $idle_haltpoll_saved ]]; then
    idle_haltpoll_saved=$(<"$idle_haltpoll")
    echo "$idle_haltpoll_default" >"$idle_haltpoll"
  fi
}

idle_restore() { idle_set default; }

idle_title() { # COND
  case $1 in
    default) echo "the machine's CPU idle states (default)" ;;
    polled) echo "halt polling at the kernel's default, 200 µs (polled)" ;;
    held) echo "CPU idle exits held at 0 µs (held)" ;;
  esac
}
