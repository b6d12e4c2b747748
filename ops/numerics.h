// What, besides a run's config, seed and data, decides its bits on a device:
// a line for identities that promise "same inputs, same bits" (the suite's
// stage sharing, recipes/runner/stage_sharing.h).
//
// CPU: graft's own kernels, whose results depend on neither the thread count
// nor the CPU model (ops/cpu/gemm.h); only a change of graft's numerics (a
// GEMM definition, a reduction order) changes them, and the version below
// changes with it, so a stage trained by an older graft is never taken for
// one trained by this one.
// CUDA: cuBLASLt picks algorithms per GPU model, so GPU bits are promised
// only on the same GPU model; the line names it.
#pragma once

#include <string>

#include "ops/dtype.h"

namespace graft {

// Bumped whenever a CPU kernel's arithmetic changes (2: graft's FMA-chain
// GEMM replaced the BLAS; dropout masks, generator samples and SpacTor's
// span noise are keyed by global row).
constexpr int kCpuNumericsVersion = 2;

std::string numerics_identity(Device device);

}  // namespace graft
