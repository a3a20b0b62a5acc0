# The D-Bus API against a private dbus-daemon with the project's policy (label dbus).
exhibit_test(bus_api_test dbus/bus_api_test.cpp LIBS exhibit_common exhibit_test_support PkgConfig::SYSTEMD
             LABEL dbus TIMEOUT 180)
add_dependencies(bus_api_test exhibitd)
exhibit_test(session_signals_test dbus/session_signals_test.cpp LIBS exhibit_common exhibit_test_support
             PkgConfig::SYSTEMD LABEL dbus TIMEOUT 240)
add_dependencies(session_signals_test exhibitd)
if(TARGET exhibit-phonesim)
  add_dependencies(session_signals_test exhibit-phonesim)
endif()
if(TARGET exhibit_upload_test_support)
  exhibit_test(exhibitd_upload_test dbus/exhibitd_upload_test.cpp LIBS exhibit_upload_test_support PkgConfig::SYSTEMD
               LABEL upload TIMEOUT 300)
  add_dependencies(exhibitd_upload_test exhibitd exhibit-phonesim)
endif()
if(TARGET exhibit_upload_test_support AND TARGET exhibitctl AND TARGET exhibit-verify)
  exhibit_test(journey_test dbus/journey_test.cpp LIBS exhibit_upload_test_support LABEL upload TIMEOUT 400)
  add_dependencies(journey_test exhibitd exhibit-phonesim exhibitctl exhibit-verify)
endif()
if(TARGET exhibitctl AND TARGET exhibit-phonesim)
  exhibit_test(reload_test dbus/reload_test.cpp LIBS exhibit_store exhibit_test_support
               LABEL dbus TIMEOUT 180)
  add_dependencies(reload_test exhibitd exhibitctl exhibit-phonesim)
endif()
