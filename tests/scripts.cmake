# SPDX-License-Identifier: MIT
# Included at the end of tests/CMakeLists.txt: the example plugins built in
# tree (so they always compile) and the script tests.

# examples/uppercase (the README's "write a plugin" example) ->
# test_plugins/libuppercase.so, for tests/integration/uppercase_example_test.cpp.
sockhost_add_plugin(uppercase
  SOURCES ${CMAKE_SOURCE_DIR}/examples/uppercase/uppercase.cpp
  OUTPUT_DIRECTORY ${TEST_PLUGIN_DIR})
if(TARGET integration_tests)
  add_dependencies(integration_tests uppercase)
endif()

# Installs the SDK, builds examples/uppercase as a separate CMake project
# against it and serves one request with the result through the real host.
add_test(NAME out_of_tree_plugin
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/scripts/out_of_tree_plugin.sh
          ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(out_of_tree_plugin PROPERTIES LABELS integration TIMEOUT 300)
