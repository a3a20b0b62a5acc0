# exhibit-phonesim: unit tests of the engine's pure parts, and the referee tests that check
# phonesim against Debian's real adb client (real processes; label adb).
exhibit_test(adb_referee_test phonesim/adb_referee_test.cpp
             LIBS exhibit_common exhibit_test_support LABEL adb TIMEOUT 300)
if(TARGET exhibit-phonesim)
  add_dependencies(adb_referee_test exhibit-phonesim)
endif()
