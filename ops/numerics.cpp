#include "ops/numerics.h"

#include "ops/cuda/backend.h"

namespace graft {

std::string numerics_identity(Device device) {
  if (device == Device::cpu) {
    return "cpu numerics v" + std::to_string(kCpuNumericsVersion) +
           " (FMA-chain GEMM, fixed-order reductions; any thread count, any x86-64-v3 CPU)";
  }
  return "cuda on " + cuda::device_name() + " (bits promised on this GPU model only)";
}

}  // namespace graft
