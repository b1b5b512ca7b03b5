# Helpers shared by every folder: one place for warnings, sanitizers and test registration.

function(dive_apply_flags target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  # GCC 12 reports -Wrestrict for `"literal" + std::string&&` once inlined at -O2 (a false positive,
  # GCC bug 105651, fixed in GCC 13); everything else stays an error.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  # In a unity build every source is #included into one generated file, so GCC sees the classes of a
  # .cpp (test fixtures, pimpl structs) as "header" classes using an anonymous namespace; that warning is
  # meaningless there. Real collisions between files still fail as redefinitions.
  if(CMAKE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
  endif()
  if(DIVE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(DIVE_THREAD_SAFETY_ANALYSIS)
    target_compile_options(${target} PRIVATE ${DIVE_THREAD_SAFETY_FLAGS})
  endif()
  if(DIVE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# dive_library(<name> SOURCES ... [DEPS ...])  ->  static library dive_<name>, include root src/
function(dive_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(dive_${name} STATIC ${ARG_SOURCES})
  target_include_directories(dive_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(dive_${name} PUBLIC ${ARG_DEPS})
  dive_apply_flags(dive_${name})
endfunction()

# dive_test(<name> LABEL unit|integration|resilience SOURCES ... [DEPS ...] [TIMEOUT s] [WHOLE])
# WHOLE registers the binary as one CTest test, so an expensive fixture (a deployed hub) is set up once.
function(dive_test name)
  cmake_parse_arguments(ARG "WHOLE" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} dive_test_support GTest::gtest GTest::gmock GTest::gtest_main)
  dive_apply_flags(${name})
  if(ARG_WHOLE)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT})
  else()
    gtest_discover_tests(${name}
      PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT}
      DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
