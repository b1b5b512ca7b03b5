# Generates the port table from data/ports.json (its one source) at build time.
#
#   dive_generate_port_tables(OUTPUT <cpp>)
#
# The C++ definitions of orchestrator/port_tables.hpp are written by cmake/GeneratePortTables.cmake whenever
# the data file or the generator changes (only rewritten when the text differs); a malformed entry fails the
# build with its path in the data.

function(dive_generate_port_tables)
  cmake_parse_arguments(ARG "" "OUTPUT" "" ${ARGN})
  set(script ${CMAKE_SOURCE_DIR}/cmake/GeneratePortTables.cmake)
  set(data ${CMAKE_SOURCE_DIR}/data/ports.json)
  add_custom_command(
    OUTPUT ${ARG_OUTPUT}
    COMMAND ${CMAKE_COMMAND} "-DINPUT=${data}" "-DOUTPUT=${ARG_OUTPUT}" -P ${script}
    DEPENDS ${script} ${data} ${CMAKE_SOURCE_DIR}/cmake/WriteIfChanged.cmake
    COMMENT "Generating the port table from data/ports.json"
    VERBATIM)
endfunction()
