# Compiler settings shared by every target.

# ccache, when present. Sloppiness lets ccache cache translation units that use the
# precompiled headers (their defines and mtimes would otherwise miss); BASEDIR makes paths
# relative so that another checkout of the project (a CI clone) hits the same cache.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      "CCACHE_BASEDIR=${CMAKE_SOURCE_DIR}"
      ${CCACHE_PROGRAM})
endif()

# Warnings for our own targets only (call on each target we own).
function(prunelab_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()

# Qt's `slots` keyword clashes with LibTorch's ivalue_inl.h; we write Q_SLOTS etc.
add_compile_definitions(QT_NO_KEYWORDS)
