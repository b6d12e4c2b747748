# `graft train` faults found by breaking runs on purpose (cli_checks.sh on
# tests/dist/train_tiny.toml): a save that runs out of disk, bad --timeout
# values, inputs refused before the run folder is written, a read-only
# checkpoints/. Included from tests/CMakeLists.txt after
# dist/multi_rank_tests.cmake, whose MPI environment variables it reuses.
if(TARGET graft)
  set(graft_cli_checks ${CMAKE_CURRENT_LIST_DIR}/cli_checks.sh)
  set(graft_cli_work ${CMAKE_CURRENT_BINARY_DIR}/train_cli)
  foreach(mode disk-full timeout inputs readonly)
    add_test(NAME train_cli_${mode}
             COMMAND ${graft_cli_checks} ${mode} $<TARGET_FILE:graft> ${PROJECT_SOURCE_DIR}
                     ${graft_cli_work}/${mode})
    set_tests_properties(train_cli_${mode} PROPERTIES TIMEOUT 180 LABELS "train")
  endforeach()
  set_tests_properties(train_cli_readonly PROPERTIES SKIP_RETURN_CODE 77)
  add_test(NAME train_cli_timeout_mpirun
           COMMAND ${graft_cli_checks} timeout-mpirun $<TARGET_FILE:graft> ${PROJECT_SOURCE_DIR}
                   ${graft_cli_work}/timeout-mpirun ${MPIEXEC_EXECUTABLE})
  set_tests_properties(train_cli_timeout_mpirun PROPERTIES
    ENVIRONMENT "${graft_mpi_env}" TIMEOUT 180 LABELS "train;multi-rank")
endif()
