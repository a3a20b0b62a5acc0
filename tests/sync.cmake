# --- upload channel (owner: sync work) ---
# Pure tests carry the label "unit" (they also run under ASan/UBSan); tests against real tus
# peers (node, started and killed by the tests on 127.0.0.1) carry "upload".
add_library(exhibit_upload_test_support STATIC support/tus_peer.cpp support/upload_fixture.cpp)
target_link_libraries(exhibit_upload_test_support
    PUBLIC exhibit_test_support exhibit_sync exhibit_store nlohmann_json::nlohmann_json)
target_compile_definitions(exhibit_upload_test_support PUBLIC
    EXHIBIT_SOURCE_DIR="${CMAKE_SOURCE_DIR}" EXHIBIT_BINARY_DIR="${CMAKE_BINARY_DIR}")

# The stand-in for exhibitd in the crash test and the benchmark: imports files into a store
# and uploads them with exhibit_sync on its own sd-event loop.
add_executable(upload_runner support/upload_runner.cpp)
target_link_libraries(upload_runner PRIVATE exhibit_options exhibit_sync)
set_target_properties(upload_runner PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

exhibit_test(tus_protocol_test unit/tus_protocol_test.cpp LIBS exhibit_sync)
exhibit_test(rate_limiter_test unit/rate_limiter_test.cpp LIBS exhibit_sync)
exhibit_test(sync_window_test unit/sync_window_test.cpp LIBS exhibit_upload_test_support)
exhibit_test(upload_options_test unit/upload_options_test.cpp LIBS exhibit_sync)
exhibit_test(upload_queue_test unit/upload_queue_test.cpp LIBS exhibit_upload_test_support)
exhibit_test(retention_test unit/retention_test.cpp LIBS exhibit_upload_test_support)
exhibit_test(manifest_test unit/manifest_test.cpp LIBS exhibit_upload_test_support)

exhibit_test(uploader_test unit/uploader_test.cpp LIBS exhibit_upload_test_support
             LABEL upload TIMEOUT 300)
exhibit_test(tus_client_test unit/tus_client_test.cpp LIBS exhibit_upload_test_support
             LABEL upload TIMEOUT 300)
exhibit_test(upload_resilience_test unit/upload_resilience_test.cpp
             LIBS exhibit_upload_test_support LABEL upload TIMEOUT 900)
add_dependencies(upload_resilience_test upload_runner)
