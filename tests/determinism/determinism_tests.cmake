# Determinism across thread counts and OpenBLAS kernel choices
# (determinism_checks.sh), and the in-process determinism tests run again with
# OpenBLAS pinned to its Haswell kernels. Included from tests/CMakeLists.txt.
if(TARGET graft)
  add_test(NAME determinism_threads_and_blas_kernels
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/determinism_checks.sh $<TARGET_FILE:graft>
                   ${CMAKE_CURRENT_BINARY_DIR}/determinism)
  set_tests_properties(determinism_threads_and_blas_kernels
                       PROPERTIES TIMEOUT 300 LABELS "train;determinism")
endif()
# The thread-count determinism tests of train/ again, with OpenBLAS pinned to
# its Haswell kernels (the other registration runs the environment as given).
foreach(t train_test_row_shards train_test_resume)
  if(TARGET ${t})
    gtest_discover_tests(${t} TEST_FILTER "*ThreadCount*:*Threads*" TEST_SUFFIX ".openblas_haswell"
                         DISCOVERY_TIMEOUT 60 PROPERTIES ENVIRONMENT
                         "OMP_NUM_THREADS=2;OPENBLAS_CORETYPE=Haswell;OPENBLAS_L2_SIZE=512"
                         LABELS "train;determinism")
  endif()
endforeach()
