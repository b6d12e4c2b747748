# Debian ships OpenMP builds of OpenBLAS and BLIS in their own folders; the OpenMP
# builds matter because attention calls BLAS from inside OpenMP parallel regions,
# where an OpenMP BLAS runs single-threaded instead of oversubscribing the cores.
#
# Each BLAS that is installed becomes an INTERFACE target (graft_blas_openblas,
# graft_blas_blis) so bench/ can time both side by side; graft_blas aliases the
# one GRAFT_BLAS picks (bench/bench_sgemm decided the default: docs/PERFORMANCE.md).
set(_arch_lib /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE})
set(_arch_inc /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})

# graft_find_blas(<openblas|blis> <target>): defines <target> when that BLAS's
# OpenMP build is installed; leaves it undefined otherwise.
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
  if(_lib AND _inc)
    add_library(${out_target} INTERFACE)
    target_include_directories(${out_target} INTERFACE ${_inc})
    target_link_libraries(${out_target} INTERFACE ${_lib})
  endif()
  unset(_lib CACHE)
  unset(_inc CACHE)
endfunction()

graft_find_blas(openblas graft_blas_openblas)
graft_find_blas(blis graft_blas_blis)
if(NOT GRAFT_BLAS MATCHES "^(openblas|blis)$")
  message(FATAL_ERROR "GRAFT_BLAS must be openblas or blis, not '${GRAFT_BLAS}'")
endif()
if(NOT TARGET graft_blas_${GRAFT_BLAS})
  message(FATAL_ERROR "BLAS '${GRAFT_BLAS}' (OpenMP build) not found; run scripts/setup")
endif()
add_library(graft_blas ALIAS graft_blas_${GRAFT_BLAS})
message(STATUS "graft: CPU GEMMs through ${GRAFT_BLAS}")
