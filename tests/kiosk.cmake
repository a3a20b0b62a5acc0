# exhibit-kiosk's Qt Quick tests (label "kiosk"): the real QML driven by touch events on the
# offscreen platform against real exhibitd, exhibit-phonesim --usb and the tus server.
if(TARGET exhibit_kiosk_core AND TARGET exhibit_upload_test_support)
  find_package(Qt6 6.4 REQUIRED COMPONENTS QuickTest)
  add_executable(kiosk_test kiosk/kiosk_test.cpp kiosk/kiosk_harness.cpp kiosk/kiosk_world.cpp)
  set_target_properties(kiosk_test PROPERTIES AUTOMOC ON
                        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(kiosk_test PRIVATE exhibit_kiosk_core exhibit_upload_test_support
                        Qt6::QuickTest exhibit_options)
  target_compile_definitions(kiosk_test PRIVATE
    QUICK_TEST_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}/kiosk"
    EXHIBIT_SOURCE_DIR="${CMAKE_SOURCE_DIR}" EXHIBIT_BINARY_DIR="${CMAKE_BINARY_DIR}")
  add_dependencies(kiosk_test exhibitd exhibitctl exhibit-phonesim exhibit-verify)
  add_test(NAME kiosk_ui COMMAND kiosk_test)
  set_tests_properties(kiosk_ui PROPERTIES LABELS kiosk TIMEOUT 1200
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen;QT_QUICK_BACKEND=software;QT_IM_MODULE=qtvirtualkeyboard;QT_QPA_FONTDIR=/usr/share/fonts/truetype/dejavu;TZ=UTC;LANG=C.UTF-8")
endif()
