# SPDX-License-Identifier: MIT
# sockhost_add_plugin(<name> SOURCES <src>... [OUTPUT_DIRECTORY <dir>])
#
# Builds lib<name>.so, a MODULE that links only the SDK, exports only its
# descriptor (-fvisibility=hidden) and has no undefined symbols left for the
# host to supply (-Wl,--no-undefined).
include_guard(GLOBAL)
# CMAKE_INSTALL_LIBDIR & co. for install rules next to sockhost_add_plugin
# calls. In the sockhost tree this also defines them before host/ computes
# the host's INSTALL_RPATH ($ORIGIN/../${CMAKE_INSTALL_LIBDIR}).
include(GNUInstallDirs)

function(sockhost_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "sockhost_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE sockhost::sdk)
  target_compile_features(${name} PRIVATE cxx_std_20)
  set_target_properties(${name} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    PREFIX "lib")
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(DEFINED SOCKHOST_PLUGIN_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${SOCKHOST_PLUGIN_OUTPUT_DIRECTORY})
  endif()
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
endfunction()
