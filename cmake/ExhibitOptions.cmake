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

# The sanitizer tree (build-asan/, scripts/lib/build.sh): clang with libFuzzer; every exhibit
# target is built with libFuzzer's coverage instrumentation, and the fuzz targets link
# libFuzzer's main (tests/fuzz). The unit and hostile tests run in it under the sanitizers.
if(EXHIBIT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "EXHIBIT_FUZZ needs clang (libFuzzer): CXX=clang++-15")
  endif()
  target_compile_options(exhibit_options INTERFACE -fsanitize=fuzzer-no-link
                         # sd-bus.h's SD_BUS_ERROR_NULL is a compound literal
                         -Wno-c99-extensions)
  if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 19)
    # libstdc++ 12 offers std::expected only when __cpp_concepts >= 202002L, which clang
    # before 19 does not announce although what <expected> needs of it compiles.
    target_compile_options(exhibit_options INTERFACE -D__cpp_concepts=202002L
                           -Wno-macro-redefined)
  endif()
endif()

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()
