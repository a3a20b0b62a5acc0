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

exhibit_test(uploader_test unit/uploader_test.cpp LIBS exhibit_upload_test_support
             LABEL upload TIMEOUT 300)
