# Compiles the SQL files under migrations/<set>/ into the binary.
#
#   dive_embed_migrations(OUTPUT <cpp> SETS instance orchestration)
#
# For each set, migrations/<set>/NNN_name.sql (NNN: three or more digits, name: [a-z0-9_-]) becomes an entry of
# `dive::store::<set>_migrations()`. The file list is taken at configure time with CONFIGURE_DEPENDS (so an
# added or removed file re-runs CMake at build time) and handed to cmake/GenerateMigrations.cmake, which runs
# at build time whenever a listed file or the list itself changes. Badly named files fail configure (and the
# generator checks again).

set(DIVE_MIGRATION_NAME_REGEX "^([0-9][0-9][0-9][0-9]*)_([a-z0-9_-]+)\\.sql$")

function(dive_embed_migrations)
  cmake_parse_arguments(ARG "" "OUTPUT" "SETS" ${ARGN})
  set(script ${CMAKE_SOURCE_DIR}/cmake/GenerateMigrations.cmake)
  set(args "")
  set(depends ${script})
  foreach(set_name ${ARG_SETS})
    set(dir ${CMAKE_SOURCE_DIR}/migrations/${set_name})
    # Every file in the folder (but dot files and README*), so that a misnamed one (001-x.sql, 1_x.sql,
    # 001_x.sql.bak) is an error rather than silently left out.
    file(GLOB files CONFIGURE_DEPENDS LIST_DIRECTORIES false ${dir}/*)
    list(SORT files)
    set(sql_files "")
    foreach(f ${files})
      get_filename_component(n ${f} NAME)
      if(n MATCHES "^\\." OR n MATCHES "^README")
        continue()
      endif()
      if(NOT n MATCHES "${DIVE_MIGRATION_NAME_REGEX}")
        message(FATAL_ERROR "migrations/${set_name}/${n}: a migration file must be named NNN_name.sql "
                            "(three or more digits, then lower-case letters, digits, '_' or '-')")
      endif()
      list(APPEND sql_files ${f})
    endforeach()
    list(APPEND depends ${sql_files})
    # '|' separated, so that the list survives as one argument; a changed list changes the command line.
    string(REPLACE ";" "|" joined "${sql_files}")
    list(APPEND args "-DSET_${set_name}=${joined}")
  endforeach()
  string(REPLACE ";" "|" sets_joined "${ARG_SETS}")
  add_custom_command(
    OUTPUT ${ARG_OUTPUT}
    COMMAND ${CMAKE_COMMAND} "-DSETS=${sets_joined}" ${args} "-DOUTPUT=${ARG_OUTPUT}" -P ${script}
    DEPENDS ${depends}
    COMMENT "Embedding SQL migrations"
    VERBATIM)
endfunction()
