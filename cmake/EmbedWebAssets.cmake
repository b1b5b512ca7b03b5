# Compiles the web console's static files (web/ at the repository root) into the binary.
#
#   dive_embed_web_assets(OUTPUT <cpp> DIR <folder>)
#
# Every file directly in <folder> (but dot files and README*) becomes an entry of `dive::web::embedded_files()`
# (web/embedded_files.hpp), its bytes held in an array, so any file type is fine. The file list is taken at
# configure time with CONFIGURE_DEPENDS (an added or removed file re-runs CMake at build time) and handed to
# cmake/GenerateWebAssets.cmake, which runs at build time whenever a listed file or the list changes. A badly
# named file or a sub-folder fails configure rather than being silently left out.

set(DIVE_WEB_ASSET_NAME_REGEX "^[A-Za-z0-9][A-Za-z0-9._-]*$")

function(dive_embed_web_assets)
  cmake_parse_arguments(ARG "" "OUTPUT;DIR" "" ${ARGN})
  set(script ${CMAKE_SOURCE_DIR}/cmake/GenerateWebAssets.cmake)
  file(GLOB entries CONFIGURE_DEPENDS LIST_DIRECTORIES true ${ARG_DIR}/*)
  list(SORT entries)
  set(asset_files "")
  foreach(f ${entries})
    get_filename_component(n ${f} NAME)
    if(n MATCHES "^\\." OR n MATCHES "^README")
      continue()
    endif()
    if(IS_DIRECTORY ${f})
      message(FATAL_ERROR "${ARG_DIR}/${n}: the console's assets are one flat folder (no sub-folders)")
    endif()
    if(NOT n MATCHES "${DIVE_WEB_ASSET_NAME_REGEX}")
      message(FATAL_ERROR "${ARG_DIR}/${n}: an asset name is letters, digits, '.', '_' or '-'")
    endif()
    list(APPEND asset_files ${f})
  endforeach()
  string(REPLACE ";" "|" joined "${asset_files}")
  add_custom_command(
    OUTPUT ${ARG_OUTPUT}
    COMMAND ${CMAKE_COMMAND} "-DFILES=${joined}" "-DOUTPUT=${ARG_OUTPUT}" -P ${script}
    DEPENDS ${script} ${asset_files}
    COMMENT "Embedding the web console's assets"
    VERBATIM)
endfunction()
