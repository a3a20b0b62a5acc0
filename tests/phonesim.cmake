# exhibit-phonesim: unit tests of the engine's pure parts, and the referee tests that check
# phonesim against Debian's real adb client (real processes; label adb).
exhibit_test(phonesim_test
             phonesim/auth_keys_test.cpp
             phonesim/device_engine_test.cpp
             phonesim/generator_test.cpp
             phonesim/phone_setup_test.cpp
             phonesim/records_test.cpp
             phonesim/scenario_test.cpp
             phonesim/services_test.cpp
             phonesim/shell_commands_test.cpp
             phonesim/virtual_fs_test.cpp
             LIBS exhibit_phonesim_engine)

exhibit_test(adb_referee_test phonesim/adb_referee_test.cpp
             LIBS exhibit_common exhibit_test_support LABEL adb TIMEOUT 300)
if(TARGET exhibit-phonesim)
  add_dependencies(adb_referee_test exhibit-phonesim)
endif()
