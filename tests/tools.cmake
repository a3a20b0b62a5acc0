# --- exhibitctl and exhibit-verify (owner: tools work) ---
# exhibitctl's pure parts (label "unit", also under ASan/UBSan); its end-to-end journey
# against a real exhibitd lives with the D-Bus tests.
foreach(part failure requests format views progress values)
  exhibit_test(exhibitctl_${part}_test tools/exhibitctl_${part}_test.cpp LIBS exhibitctl_core)
endforeach()

# exhibit-verify on deliveries made with the daemon's own store and manifest code (a test may
# link daemon libraries; the program does not).
exhibit_test(exhibit_verify_test tools/exhibit_verify_test.cpp LIBS exhibit_upload_test_support)
add_dependencies(exhibit_verify_test exhibit-verify)

# exhibitctl --wait against a scripted stand-in for exhibitd on a private dbus-daemon.
exhibit_test(exhibitctl_wait_test tools/exhibitctl_wait_test.cpp
             LIBS exhibitctl_core exhibit_test_support LABEL dbus TIMEOUT 120)
add_dependencies(exhibitctl_wait_test exhibitctl)
