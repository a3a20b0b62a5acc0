# ADB driver and extraction tests.
exhibit_test(adb_protocol_test adb/adb_protocol_test.cpp LIBS exhibit_adb)
exhibit_test(android_pubkey_test adb/android_pubkey_test.cpp LIBS exhibit_adb)
exhibit_test(content_query_test adb/content_query_test.cpp LIBS exhibit_adb)
exhibit_test(adb_extractor_test adb/adb_extractor_test.cpp LIBS exhibit_adb)

# Against exhibit-phonesim over TCP (real processes; label adb).
exhibit_test(adb_extraction_test adb/adb_extraction_test.cpp LIBS exhibit_extract exhibit_test_support
             LABEL adb TIMEOUT 300)
if(TARGET exhibit-phonesim)
  add_dependencies(adb_extraction_test exhibit-phonesim)
endif()
exhibit_test(adb_records_auth_test adb/adb_records_auth_test.cpp LIBS exhibit_extract exhibit_test_support
             LABEL adb TIMEOUT 180)
if(TARGET exhibit-phonesim)
  add_dependencies(adb_records_auth_test exhibit-phonesim)
endif()
# Hostile phones: also run under ASan/UBSan by scripts/test (label hostile).
exhibit_test(adb_hostile_test adb/adb_hostile_test.cpp LIBS exhibit_extract exhibit_test_support
             LABEL hostile TIMEOUT 300)
if(TARGET exhibit-phonesim)
  add_dependencies(adb_hostile_test exhibit-phonesim)
endif()
