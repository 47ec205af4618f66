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
