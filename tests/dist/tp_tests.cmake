# Multi-rank tensor- and data-parallel equivalence (tp_equivalence_main.cpp,
# not a test_*.cpp so graft_add_tests leaves it alone): tp=2, dp=2 and
# tp=2 × dp=2 (and tp=4) must train like one rank. Included from
# tests/CMakeLists.txt after multi_rank_tests.cmake, whose launcher and
# environment variables it reuses.
if(TARGET graft_model)
  add_executable(tp_equivalence ${CMAKE_CURRENT_LIST_DIR}/tp_equivalence_main.cpp)
  target_link_libraries(tp_equivalence PRIVATE graft_model graft_dist)
  add_test(NAME dist_tp2 COMMAND ${graft_mpirun} -np 2 $<TARGET_FILE:tp_equivalence> --tp 2)
  add_test(NAME dist_dp2 COMMAND ${graft_mpirun} -np 2 $<TARGET_FILE:tp_equivalence> --tp 1)
  add_test(NAME dist_tp2_dp2 COMMAND ${graft_mpirun} -np 4 $<TARGET_FILE:tp_equivalence> --tp 2)
  add_test(NAME dist_tp4 COMMAND ${graft_mpirun} -np 4 $<TARGET_FILE:tp_equivalence> --tp 4
                                 --steps 5)
  set_tests_properties(dist_tp2 dist_dp2 dist_tp2_dp2 dist_tp4
                       PROPERTIES ENVIRONMENT "${graft_mpi_env}" TIMEOUT 60
                                  LABELS "dist;multi-rank")
endif()
