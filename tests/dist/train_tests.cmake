# Multi-rank `graft train` (train_checks.sh on train_tiny.toml): tp / dp /
# tp x dp runs match one rank (with dropout too), srun matches mpirun, an indivisible world
# fails fast, and checkpoints resume across layouts. Included from
# tests/CMakeLists.txt after multi_rank_tests.cmake, whose launcher and
# environment variables it reuses.
if(TARGET graft AND TARGET graft_train)
  add_executable(ckpt_compare ${CMAKE_CURRENT_LIST_DIR}/ckpt_compare_main.cpp)
  target_link_libraries(ckpt_compare PRIVATE graft_train)
  set(graft_train_checks ${CMAKE_CURRENT_LIST_DIR}/train_checks.sh)
  set(graft_train_work ${CMAKE_CURRENT_BINARY_DIR}/dist_train)
  add_test(NAME dist_train_matches_one_rank
           COMMAND ${graft_train_checks} equiv $<TARGET_FILE:graft> ${MPIEXEC_EXECUTABLE}
                   ${graft_train_work}/equiv)
  add_test(NAME dist_train_dropout_matches_one_rank
           COMMAND ${graft_train_checks} dropout $<TARGET_FILE:graft> ${MPIEXEC_EXECUTABLE}
                   ${graft_train_work}/dropout)
  # SIGTERM / SIGUSR1 stop a run at a step boundary with a checkpoint and
  # exit status 75; --resume continues bit for bit; the sbatch templates
  # forward the signal and requeue.
  add_test(NAME dist_train_preempt_and_resume
           COMMAND ${graft_train_checks} preempt $<TARGET_FILE:graft> ${MPIEXEC_EXECUTABLE}
                   ${graft_train_work}/preempt)
  add_test(NAME slurm_templates_requeue_and_resume
           COMMAND ${graft_train_checks} sbatch $<TARGET_FILE:graft> ${MPIEXEC_EXECUTABLE}
                   ${graft_train_work}/sbatch)
  add_test(NAME dist_train_srun_matches_mpirun
           COMMAND ${graft_train_checks} srun $<TARGET_FILE:graft> ${MPIEXEC_EXECUTABLE}
                   ${graft_train_work}/srun)
  set_tests_properties(dist_train_srun_matches_mpirun PROPERTIES SKIP_RETURN_CODE 77)
  # GPU runs (one GPU against the CPU; with 2+ GPUs, NCCL dp against one GPU);
  # skipped where nvidia-smi lists no GPU.
  add_test(NAME dist_train_gpu_matches_cpu
           COMMAND ${graft_train_checks} gpu $<TARGET_FILE:graft> ${MPIEXEC_EXECUTABLE}
                   ${graft_train_work}/gpu)
  set_tests_properties(dist_train_gpu_matches_cpu PROPERTIES SKIP_RETURN_CODE 77)
  add_test(NAME dist_train_resume_across_layouts
           COMMAND ${graft_train_checks} resume $<TARGET_FILE:graft> ${MPIEXEC_EXECUTABLE}
                   ${graft_train_work}/resume $<TARGET_FILE:ckpt_compare>)
  add_test(NAME dist_train_indivisible_world
           COMMAND ${graft_dist_scripts}/expect_failure.sh 15 "world size 3 is not divisible by tp=2"
                   ${graft_mpirun} -np 3 $<TARGET_FILE:graft> train --config
                   ${CMAKE_CURRENT_LIST_DIR}/train_tiny.toml --set
                   run.dir=${graft_train_work}/indivisible --tp 2)
  set_tests_properties(
    dist_train_matches_one_rank dist_train_dropout_matches_one_rank dist_train_preempt_and_resume
    slurm_templates_requeue_and_resume dist_train_srun_matches_mpirun
    dist_train_resume_across_layouts
    dist_train_indivisible_world dist_train_gpu_matches_cpu
    PROPERTIES ENVIRONMENT "${graft_mpi_env}" TIMEOUT 120 LABELS "dist;multi-rank;train")
endif()
