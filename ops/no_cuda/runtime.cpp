// ops/cuda/backend.h for a build without CUDA: no GPU is ever available, and
// anything that would touch one says how to get a build that has it.
#include "ops/check.h"
#include "ops/cuda/backend.h"

namespace graft::cuda {

namespace {
[[noreturn]] void no_cuda(const char* what) {
  throw Error(std::string(what) +
              ": this graft was built without CUDA (configure with nvcc on PATH or "
              "-DGRAFT_CUDA=ON to build the CUDA backend)");
}
}  // namespace

bool available() {
  return false;
}
std::string unavailable_reason() {
  return "graft was built without CUDA (GRAFT_CUDA=OFF or no nvcc at configure time)";
}
void select_device(int) {
  no_cuda("select_device");
}
int device_count() {
  return 0;
}
std::string device_name() {
  return "none";
}
void* allocate(size_t) {
  no_cuda("allocating device memory");
}
void release(void*, size_t) {}
AllocatorStats allocator_stats() {
  return {};
}
void empty_cache() {}
void copy_bytes(void*, const void*, size_t) {
  no_cuda("copying device memory");
}
void zero_bytes(void*, size_t) {
  no_cuda("zeroing device memory");
}
void synchronize() {}
void fill(const Tensor&, double) {
  no_cuda("fill on a device tensor");
}
void cast(const Tensor&, const Tensor&) {
  no_cuda("casting a device tensor");
}

}  // namespace graft::cuda
