# Compiler flags shared by every exhibit target (added through exhibit_options).
add_library(exhibit_options INTERFACE)
target_compile_options(exhibit_options INTERFACE -Wall -Wextra -Wshadow -Wnon-virtual-dtor
                       -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual -Wpedantic
                       -Wconversion -Wno-sign-conversion -Wno-missing-field-initializers -Wnull-dereference -Wformat=2)
if(EXHIBIT_WERROR)
  target_compile_options(exhibit_options INTERFACE -Werror)
endif()
target_compile_definitions(exhibit_options INTERFACE _FILE_OFFSET_BITS=64 _GNU_SOURCE)
if(EXHIBIT_SANITIZE)
  target_compile_options(exhibit_options INTERFACE -fsanitize=address,undefined
                         -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(exhibit_options INTERFACE -fsanitize=address,undefined)
endif()

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()
