# SPDX-License-Identifier: MIT
# Included at the end of tests/CMakeLists.txt: the example plugins built in
# tree (so they always compile) and the script tests.

# Every examples/<name>/<name>.cpp (docs/writing-plugins.md's examples) ->
# test_plugins/lib<name>.so, for the integration tests that run them.
file(GLOB EXAMPLE_DIRS LIST_DIRECTORIES true ${CMAKE_SOURCE_DIR}/examples/*)
foreach(dir ${EXAMPLE_DIRS})
  get_filename_component(example ${dir} NAME)
  if(EXISTS ${dir}/${example}.cpp)
    sockhost_add_plugin(${example} SOURCES ${dir}/${example}.cpp OUTPUT_DIRECTORY ${TEST_PLUGIN_DIR})
    if(TARGET integration_tests)
      add_dependencies(integration_tests ${example})
    endif()
  endif()
endforeach()

# Installs the SDK, builds examples/uppercase as a separate CMake project
# against it and serves one request with the result through the real host.
add_test(NAME out_of_tree_plugin
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/out_of_tree_plugin.sh
          ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(out_of_tree_plugin PROPERTIES LABELS integration TIMEOUT 300)

# The code shown in README.md and docs/ is code the build compiles.
add_test(NAME docs_snippets
  COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/scripts/docs_snippets.py ${CMAKE_SOURCE_DIR})
set_tests_properties(docs_snippets PROPERTIES LABELS unit TIMEOUT 60)

# The shipped systemd units parse (systemd-analyze verify, when the machine
# has it), with the build's binary in ExecStart so it exists.
find_program(SYSTEMD_ANALYZE systemd-analyze)
if(SYSTEMD_ANALYZE)
  foreach(unit sockhost.service sockhost.socket)
    file(READ ${CMAKE_SOURCE_DIR}/dist/systemd/${unit} text)
    string(REPLACE "@SOCKHOST_BINARY@" "${CMAKE_BINARY_DIR}/sockhost" text "${text}")
    string(REPLACE "@SOCKHOST_DOCDIR@" "${CMAKE_SOURCE_DIR}/docs" text "${text}")
    file(WRITE ${CMAKE_BINARY_DIR}/dist-test/${unit} "${text}")
  endforeach()
  add_test(NAME systemd_units
    COMMAND ${SYSTEMD_ANALYZE} verify --man=no ./sockhost.socket ./sockhost.service
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR}/dist-test)
  # verify exits 0 on warnings too: any line it prints fails the test.
  set_tests_properties(systemd_units PROPERTIES LABELS unit TIMEOUT 60 FAIL_REGULAR_EXPRESSION ".+")
endif()
