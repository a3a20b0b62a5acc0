# ADB driver and extraction tests.
exhibit_test(adb_protocol_test adb/adb_protocol_test.cpp LIBS exhibit_adb)
exhibit_test(android_pubkey_test adb/android_pubkey_test.cpp LIBS exhibit_adb)
exhibit_test(content_query_test adb/content_query_test.cpp LIBS exhibit_adb)
exhibit_test(adb_extractor_test adb/adb_extractor_test.cpp LIBS exhibit_adb)
