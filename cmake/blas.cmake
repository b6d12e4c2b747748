# Debian ships OpenMP builds of OpenBLAS and BLIS in their own folders; the OpenMP
# builds matter because attention calls BLAS from inside OpenMP parallel regions,
# where an OpenMP BLAS runs single-threaded instead of oversubscribing the cores.
set(_arch_lib /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE})
set(_arch_inc /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})

function(graft_find_blas name out_target)
  if(name STREQUAL "openblas")
    find_library(_lib NAMES openblas PATHS ${_arch_lib}/openblas-openmp NO_DEFAULT_PATH)
    find_path(_inc cblas.h PATHS ${_arch_inc}/openblas-openmp NO_DEFAULT_PATH)
  elseif(name STREQUAL "blis")
    find_library(_lib NAMES blis PATHS ${_arch_lib}/blis-openmp NO_DEFAULT_PATH)
    find_path(_inc cblas.h PATHS ${_arch_inc}/blis-openmp NO_DEFAULT_PATH)
  else()
    message(FATAL_ERROR "GRAFT_BLAS must be openblas or blis, not '${name}'")
  endif()
  if(NOT _lib OR NOT _inc)
    message(FATAL_ERROR "BLAS '${name}' (OpenMP build) not found; run scripts/setup")
  endif()
  add_library(${out_target} INTERFACE)
  target_include_directories(${out_target} INTERFACE ${_inc})
  target_link_libraries(${out_target} INTERFACE ${_lib})
  unset(_lib CACHE)
  unset(_inc CACHE)
endfunction()

graft_find_blas(${GRAFT_BLAS} graft_blas)
message(STATUS "graft: CPU GEMMs through ${GRAFT_BLAS}")
