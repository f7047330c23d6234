# sg_link_self_contained(TARGET): links a program that runs once per request
# (a CGI program) with the static library, the static archives of its
# dependencies and the C++ runtime inside, so that starting it costs no
# dynamic linking of libstdc++, RE2, SQLite, libpsl, libidn2, libunistring
# and hiredis: their thousands of symbol lookups and relocated pages are
# paid at every exec otherwise (bench/cgi_bench.sh measures both ways;
# libunistring alone, loaded by an empty program, adds 0.5 ms to its
# start here). Only libc and libm stay shared (libunistring too when its
# archive, in libunistring-dev, is missing). Without the other archives
# (or in a sanitizer or fuzzing build) the program links the shared
# library as usual, and says so.
function(sg_link_self_contained target)
  set(archives)
  set(missing)
  foreach(name re2 sqlite3 psl idn2 hiredis)
    find_library(SG_ARCHIVE_${name} NAMES lib${name}.a)
    if(SG_ARCHIVE_${name})
      list(APPEND archives ${SG_ARCHIVE_${name}})
    else()
      list(APPEND missing lib${name}.a)
    endif()
  endforeach()
  find_library(SG_SHARED_unistring NAMES libunistring.a unistring libunistring.so.2 libunistring.so.5)
  if(NOT SG_SHARED_unistring)
    list(APPEND missing libunistring)
  endif()
  if(missing OR SG_SANITIZE OR SG_TSAN OR SG_FUZZ)
    if(missing)
      message(STATUS "${target}: linked with the shared library (no ${missing})")
    endif()
    target_link_libraries(${target} PRIVATE spamguard)
    return()
  endif()
  add_dependencies(${target} spamguard_static)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/libspamguard/include)
  target_compile_definitions(${target} PRIVATE SG_STATIC)
  set_target_properties(${target} PROPERTIES LINKER_LANGUAGE CXX)
  target_link_libraries(${target} PRIVATE $<TARGET_FILE:spamguard_static> ${archives}
    ${SG_SHARED_unistring} Threads::Threads ${CMAKE_DL_LIBS} m)
  target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc)
endfunction()
