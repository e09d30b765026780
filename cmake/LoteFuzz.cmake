# The libFuzzer targets of fuzz/ (-DLOTE_FUZZ=ON; fuzz/run.sh builds and runs
# them, see fuzz/README.md). Included instead of the rest of the project: a
# fuzz build configures and compiles only the sources its targets exercise,
# so it needs neither libtorch, xgboost, SQLite, libmicrohttpd nor GoogleTest.
#
# Compiler: clang with libFuzzer. Debian 12's clang-14 cannot compile lote:
# libstdc++ 12 offers std::expected (common/status.h) only when
# __cpp_concepts >= 202002L, which clang-14 lacks (P0848, conditionally
# trivial special members). clang-16 implements what <expected> needs but
# still reports 201907L, so the macro is raised here for this build only.

if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR CMAKE_CXX_COMPILER_VERSION VERSION_LESS 16)
  message(FATAL_ERROR "LOTE_FUZZ needs clang >= 16 with libFuzzer (Debian: clang-16 libfuzzer-16-dev "
                      "libclang-rt-16-dev); configure with -DCMAKE_CXX_COMPILER=clang++-16. "
                      "Found ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}.")
endif()
if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 19)
  add_compile_options(-D__cpp_concepts=202002L -Wno-macro-redefined)
endif()

# Every library is built with coverage feedback and the sanitizers; only the
# fuzz executables link libFuzzer's main. -O1 whatever the build type (a
# later -O wins), assertions kept (nlohmann's JSON_ASSERT checks misuse).
# Line tables only: enough for symbolized reports, and the build is ~15%
# faster than with full debug information (test.sh builds it from scratch).
add_compile_options(-O1 -gline-tables-only -UNDEBUG -fno-omit-frame-pointer
                    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all)
add_link_options(-fsanitize=address,undefined)

find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(CURL REQUIRED)

include(${CMAKE_SOURCE_DIR}/cmake/LoteLibrary.cmake)

# lote_fuzz_sources(NAME SOURCES <src/...> DEPS <targets>): a library of a
# few files of a subsystem whose whole library would pull in heavy
# dependencies (src/jobs needs the store, src/native xgboost, src/server
# and src/http libmicrohttpd).
function(lote_fuzz_sources name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  list(TRANSFORM ARG_SOURCES PREPEND ${CMAKE_SOURCE_DIR}/)
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# Whole subsystems where they are small and light; single files elsewhere:
# of src/common the files the targets reach (not home.cc), of src/runtime
# the frame codec without the worker process (each a heavy nlohmann unit).
lote_library(lote_model   DIR src/model   DEPS lote_common yaml-cpp)
lote_library(lote_storage DIR src/storage DEPS lote_common CURL::libcurl)
# float_text.cc: the Parquet reader's CSV export writes doubles with it, on
# Debian's libfmt (Dragonbox).
find_package(fmt REQUIRED)
lote_fuzz_sources(lote_common SOURCES src/common/status.cc src/common/util.cc src/common/crypto.cc
                  src/common/fs_name.cc src/common/float_text.cc
                  DEPS nlohmann_json::nlohmann_json OpenSSL::Crypto Threads::Threads fmt::fmt)
lote_fuzz_sources(lote_runtime SOURCES src/runtime/frame.cc DEPS lote_common)
lote_fuzz_sources(lote_fuzz_result_batch SOURCES src/jobs/result_batch.cc DEPS lote_common)
lote_fuzz_sources(lote_fuzz_planner SOURCES src/jobs/byte_ranges.cc DEPS lote_common)
lote_fuzz_sources(lote_fuzz_invoke SOURCES src/jobs/invoke_request.cc src/jobs/invoke_request_azure.cc
                  src/jobs/invoke_forms.cc DEPS lote_model)
# The HTTP layer's parsers (router, URL decoding, JSON bodies) and the REST
# plumbing that reads bodies, without libmicrohttpd.
lote_fuzz_sources(lote_fuzz_http SOURCES src/http/json_body.cc src/http/url.cc src/http/router.cc
                  src/http/request.cc src/http/response.cc src/server/http_util.cc DEPS lote_common)
lote_fuzz_sources(lote_fuzz_csv SOURCES src/native/csv_reader.cc DEPS lote_common)
lote_fuzz_sources(lote_fuzz_auth SOURCES src/server/tokens.cc src/server/auth.cc DEPS lote_common)
lote_fuzz_sources(lote_fuzz_query SOURCES src/cli/query.cc src/cli/query_parser.cc DEPS lote_common)
# The Parquet reader, on Debian's codec libraries.
find_package(PkgConfig REQUIRED)
find_package(ZLIB REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(SNAPPY REQUIRED IMPORTED_TARGET snappy)
lote_library(lote_parquet DIR src/parquet DEPS lote_common PkgConfig::SNAPPY PkgConfig::ZSTD ZLIB::ZLIB)
lote_fuzz_sources(lote_fuzz_output SOURCES src/jobs/output_convert.cc DEPS lote_parquet)
# The JSON Lines reader, on Debian's simdjson.
pkg_check_modules(SIMDJSON REQUIRED IMPORTED_TARGET simdjson)
lote_fuzz_sources(lote_fuzz_jsonl SOURCES src/native/jsonl_reader.cc DEPS lote_common PkgConfig::SIMDJSON)

# lote_fuzzer(NAME DEPS <targets>): fuzz/NAME_fuzzer.cc -> NAME_fuzzer. fuzz/run.sh runs
# every fuzz/*_fuzzer.cc, so a new target needs one line here.
function(lote_fuzzer name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  add_executable(${name}_fuzzer ${CMAKE_SOURCE_DIR}/fuzz/${name}_fuzzer.cc)
  target_include_directories(${name}_fuzzer PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/fuzz)
  target_link_libraries(${name}_fuzzer PRIVATE ${ARG_DEPS})
  target_link_options(${name}_fuzzer PRIVATE -fsanitize=fuzzer)
endfunction()

lote_fuzzer(frame          DEPS lote_runtime)
lote_fuzzer(result_batch   DEPS lote_fuzz_result_batch)
lote_fuzzer(csv_reader     DEPS lote_fuzz_csv lote_fuzz_planner)
lote_fuzzer(planner        DEPS lote_fuzz_planner)
lote_fuzzer(yaml_spec      DEPS lote_model)
lote_fuzzer(invoke_request DEPS lote_fuzz_invoke lote_fuzz_http lote_model)
lote_fuzzer(query          DEPS lote_fuzz_query)
lote_fuzzer(token          DEPS lote_fuzz_auth)
lote_fuzzer(safe_path      DEPS lote_storage)
lote_fuzzer(json_body      DEPS lote_fuzz_http)
lote_fuzzer(http_router    DEPS lote_fuzz_http lote_fuzz_auth)
lote_fuzzer(index_links    DEPS lote_storage)
lote_fuzzer(fs_name        DEPS lote_common)
lote_fuzzer(parquet        DEPS lote_parquet)
lote_fuzzer(parquet_output DEPS lote_fuzz_output)
lote_fuzzer(jsonl_reader   DEPS lote_fuzz_jsonl lote_fuzz_csv lote_fuzz_planner)
