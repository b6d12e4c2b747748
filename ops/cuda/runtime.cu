#include <cstdio>
#include <mutex>
#include <sstream>

#include "ops/cuda/runtime.h"

namespace graft::cuda {

void fail_cuda(cudaError_t status, const char* expression, const char* file, int line) {
  std::ostringstream message;
  message << "CUDA error " << cudaGetErrorName(status) << " (" << cudaGetErrorString(status)
          << ") from " << expression << " at " << file << ":" << line;
  throw Error(message.str());
}

namespace {

struct Probe {
  bool ok = false;
  std::string reason;
};

const Probe& probe() {
  static const Probe result = [] {
    Probe p;
    int count = 0;
    cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      p.reason =
          std::string("no usable GPU: cudaGetDeviceCount says ") + cudaGetErrorString(status);
      cudaGetLastError();  // clear the sticky-free error so later probes start clean
    } else if (count == 0) {
      p.reason = "no usable GPU: the driver reports 0 devices";
    } else {
      p.ok = true;
    }
    return p;
  }();
  return result;
}

}  // namespace

bool available() {
  return probe().ok;
}

std::string unavailable_reason() {
  return probe().reason;
}

int device_count() {
  return available() ? [] {
    int count = 0;
    GRAFT_CUDA_CHECK(cudaGetDeviceCount(&count));
    return count;
  }()
                     : 0;
}

void select_device(int index) {
  GRAFT_CHECK(available(), unavailable_reason());
  const int count = device_count();
  GRAFT_CHECK(index >= 0 && index < count,
              "GPU " << index << " requested but " << count << " are visible");
  GRAFT_CUDA_CHECK(cudaSetDevice(index));
}

std::string device_name() {
  if (!available()) return "none";
  int device = 0;
  GRAFT_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp props{};
  GRAFT_CUDA_CHECK(cudaGetDeviceProperties(&props, device));
  return props.name;
}

cudaStream_t stream() {
  static cudaStream_t s = [] {
    GRAFT_CHECK(available(), unavailable_reason());
    cudaStream_t created = nullptr;
    GRAFT_CUDA_CHECK(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking));
    return created;
  }();
  return s;
}

int multiprocessor_count() {
  static int count = [] {
    int device = 0, value = 0;
    GRAFT_CUDA_CHECK(cudaGetDevice(&device));
    GRAFT_CUDA_CHECK(cudaDeviceGetAttribute(&value, cudaDevAttrMultiProcessorCount, device));
    return value;
  }();
  return count;
}

void copy_bytes(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  // cudaMemcpyDefault: unified addressing tells host from device pointers.
  GRAFT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream()));
  cudaPointerAttributes attributes{};
  GRAFT_CUDA_CHECK(cudaPointerGetAttributes(&attributes, dst));
  // A host destination (or source: pageable memory may be reused at once by
  // the caller) must be complete before we return.
  cudaPointerAttributes source{};
  GRAFT_CUDA_CHECK(cudaPointerGetAttributes(&source, src));
  if (attributes.type != cudaMemoryTypeDevice || source.type != cudaMemoryTypeDevice)
    GRAFT_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

void zero_bytes(void* dst, size_t bytes) {
  if (bytes == 0) return;
  GRAFT_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, stream()));
}

void synchronize() {
  if (available()) GRAFT_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

}  // namespace graft::cuda
