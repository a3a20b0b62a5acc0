# The manual pages, made from the documents in docs/ (packaging/man/make-man, with pandoc), so
# that `man exhibitctl` and docs/exhibitctl.md never say different things.
find_program(PANDOC pandoc REQUIRED)

set(_make_man ${CMAKE_SOURCE_DIR}/packaging/man/make-man)
set(_man_pages)
# exhibit_man_page(NAME SECTION "DESCRIPTION" SOURCE [COMPONENT]): one page from one document.
function(exhibit_man_page name section description source)
  set(out ${CMAKE_BINARY_DIR}/man/${name}.${section})
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND ${_make_man} ${name} ${section} ${description} ${PROJECT_VERSION}
            ${CMAKE_SOURCE_DIR}/${source} ${out}
    DEPENDS ${_make_man} ${CMAKE_SOURCE_DIR}/${source}
    COMMENT "Manual page ${name}(${section}) from ${source}"
    VERBATIM)
  set(_man_pages ${_man_pages} ${out} PARENT_SCOPE)
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endfunction()

exhibit_man_page(exhibitd 8 "the evidence kiosk daemon" docs/exhibitd.md)
exhibit_man_page(exhibitd.conf 5 "configuration of exhibitd" docs/configuration.md)
exhibit_man_page(exhibitctl 1 "the command line of exhibitd" docs/exhibitctl.md)
exhibit_man_page(exhibit-verify 1 "check what an exhibit kiosk delivered" docs/exhibit-verify.md)
exhibit_man_page(exhibit-fleet 1 "the DFU's view of its exhibit kiosks from their heartbeats" docs/exhibit-fleet.md)
exhibit_man_page(exhibit-phonesim 1 "a simulated Android phone" docs/phonesim.md)
exhibit_man_page(exhibit-validate 1 "run exhibit's validation pack and report it" docs/validation.md)
if(EXHIBIT_KIOSK)
  exhibit_man_page(exhibit-kiosk 1 "the officer's touchscreen of an evidence kiosk" docs/kiosk.md)
endif()
add_custom_target(man-pages ALL DEPENDS ${_man_pages})
