# Unit tests: every tests/unit/*_test.cc goes into one GoogleTest binary that
# links all subsystem libraries (one link instead of one per test file).
# -DLOTE_UNIT_TEST_FILTER=<regex> builds only the matching test files.
file(GLOB LOTE_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/*_test.cc)
if(LOTE_UNIT_TEST_FILTER)
  list(FILTER LOTE_UNIT_TESTS INCLUDE REGEX "${LOTE_UNIT_TEST_FILTER}")
endif()
add_executable(lote_unit_tests ${LOTE_UNIT_TESTS})
target_link_libraries(lote_unit_tests PRIVATE lote_cli lote_server lote_agent lote_native lote_parquet GTest::gtest GTest::gtest_main)
include(GoogleTest)
gtest_discover_tests(lote_unit_tests DISCOVERY_TIMEOUT 60)
# Tests that read committed data (tests/data/...) and tools (tests/parquet_tool).
target_compile_definitions(lote_unit_tests PRIVATE LOTE_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
