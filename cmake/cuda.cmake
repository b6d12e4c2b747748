# Decides GRAFT_WITH_CUDA from GRAFT_CUDA and enables the CUDA language.
# nvcc is looked for on PATH and in /usr/local/cuda (where NVIDIA's packages
# put it without touching PATH).
set(GRAFT_WITH_CUDA OFF)
if(NOT GRAFT_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(GRAFT_WITH_CUDA ON)
  elseif(GRAFT_CUDA STREQUAL "ON")
    message(FATAL_ERROR "GRAFT_CUDA=ON but no CUDA compiler (nvcc) was found")
  else()
    message(STATUS "graft: no nvcc found, building the CPU backend only")
  endif()
endif()

if(GRAFT_WITH_CUDA)
  set(CMAKE_CUDA_ARCHITECTURES ${GRAFT_CUDA_ARCHS})
  enable_language(CUDA)
  # CMake 3.25 knows no C++20 dialect flag for nvcc; nvcc 13 takes
  # -std=c++20 (the shared headers are C++20).
  set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA_STANDARD 20)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  find_package(CUDAToolkit REQUIRED)
  # NCCL ships inside the CUDA install here (lib/libnccl.so, include/nccl.h).
  find_library(GRAFT_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_ROOT}/lib
                                             ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib)
  find_path(GRAFT_NCCL_INCLUDE nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  message(STATUS "graft: CUDA backend ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, "
                 "architectures ${CMAKE_CUDA_ARCHITECTURES}, NCCL ${GRAFT_NCCL_LIBRARY})")
endif()
