# Multi-rank dist/ tests: one program (dist_collectives_main.cpp, not a
# test_*.cpp so graft_add_tests leaves it alone) launched by mpirun with 2 and
# 4 ranks, by srun on the local Slurm (scripts/lib/start-slurm), and with a
# rank made to fail. Included from tests/CMakeLists.txt.
add_executable(dist_collectives ${CMAKE_CURRENT_LIST_DIR}/dist_collectives_main.cpp)
target_link_libraries(dist_collectives PRIVATE graft_dist)

set(graft_mpirun ${MPIEXEC_EXECUTABLE} --oversubscribe)
# Root in CI containers; one thread per rank on a 2-core machine; ranks that
# wait yield the CPU instead of spinning, so 4 ranks on 2 cores stay fast.
set(graft_mpi_env
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
    OMPI_MCA_mpi_yield_when_idle=1)
set(graft_dist_scripts ${CMAKE_CURRENT_LIST_DIR})

add_test(NAME dist_mpirun_np2 COMMAND ${graft_mpirun} -np 2 $<TARGET_FILE:dist_collectives>)
add_test(NAME dist_mpirun_np4_tp2
         COMMAND ${graft_mpirun} -np 4 $<TARGET_FILE:dist_collectives> --tp 2)
add_test(NAME dist_mpirun_np4_tp4
         COMMAND ${graft_mpirun} -np 4 $<TARGET_FILE:dist_collectives> --tp 4)

# Failures must end the job, non-zero, promptly, saying why.
add_test(NAME dist_mpirun_indivisible_world
         COMMAND ${graft_dist_scripts}/expect_failure.sh 15 "world size 3 is not divisible by tp=2"
                 ${graft_mpirun} -np 3 $<TARGET_FILE:dist_collectives> --tp 2)
add_test(NAME dist_mpirun_rank_hangs
         COMMAND ${graft_dist_scripts}/expect_failure.sh 15 "did not complete within 2 s"
                 ${graft_mpirun} -np 2 $<TARGET_FILE:dist_collectives> --timeout 2 --fail hang)
add_test(NAME dist_mpirun_rank_dies
         COMMAND ${graft_dist_scripts}/expect_failure.sh 15 "signal 9"
                 ${graft_mpirun} -np 4 $<TARGET_FILE:dist_collectives> --tp 2 --timeout 5
                 --fail die --fail-rank 1)

# The same program under srun --mpi=pmix must compute the same bits; skipped
# (exit 77) only when Slurm is not running here.
add_test(NAME dist_srun_matches_mpirun
         COMMAND ${graft_dist_scripts}/srun_checks.sh match $<TARGET_FILE:dist_collectives>
                 ${MPIEXEC_EXECUTABLE})
add_test(NAME dist_srun_rank_hangs
         COMMAND ${graft_dist_scripts}/srun_checks.sh hang $<TARGET_FILE:dist_collectives>
                 ${MPIEXEC_EXECUTABLE})
set_tests_properties(dist_srun_matches_mpirun dist_srun_rank_hangs PROPERTIES SKIP_RETURN_CODE 77)

set_tests_properties(
  dist_mpirun_np2 dist_mpirun_np4_tp2 dist_mpirun_np4_tp4 dist_mpirun_indivisible_world
  dist_mpirun_rank_hangs dist_mpirun_rank_dies dist_srun_matches_mpirun dist_srun_rank_hangs
  PROPERTIES ENVIRONMENT "${graft_mpi_env}" TIMEOUT 60 LABELS "dist;multi-rank")
