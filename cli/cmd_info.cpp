#include <omp.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "ops/cpu/blas.h"
#include "ops/cpu/gemm.h"

namespace graft::cli {

int run_info(const Args& args) {
  po::options_description options("options");
  po::variables_map vm;
  if (!parse_options("info", "Prints what this build of graft uses.", options, args, vm)) return 0;
  std::cout << "graft " << GRAFT_VERSION << "\n"
            << "cpu f32 gemm: " << cpu::gemm_engine_name() << "\n"
            << "cpu blas (f64 gemm, bench comparisons): " << cpu::blas_name() << " (OpenMP build)\n"
            << "openmp threads: " << omp_get_max_threads() << "\n"
            << "cuda: not built\n";
  return 0;
}

}  // namespace graft::cli
