# write_if_changed(FILE CONTENT): rewrites FILE only when CONTENT differs, so that what depends on a generated
# source is not rebuilt for nothing. Included by the generator scripts (run with cmake -P).
function(write_if_changed file content)
  set(old "")
  if(EXISTS ${file})
    file(READ ${file} old)
  endif()
  if(NOT old STREQUAL content)
    file(WRITE ${file} "${content}")
  endif()
endfunction()
