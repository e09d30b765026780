# lote_library(NAME DIR <dir> DEPS <targets...>)
# Builds every .cc under DIR except *_test.cc into a static library, so a new
# file in a subsystem needs no CMake edit.
function(lote_library name)
  cmake_parse_arguments(ARG "" "DIR" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${ARG_DIR}/*.cc)
  list(FILTER srcs EXCLUDE REGEX "_test\\.cc$")
  if(NOT srcs)  # a subsystem not written yet still links
    set(srcs ${CMAKE_BINARY_DIR}/${name}_empty.cc)
    file(WRITE ${srcs} "// empty\n")
  endif()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()
