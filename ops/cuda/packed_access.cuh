// Packs of storage elements moved with one 16-byte access (8 bf16 or 4 f32)
// for the memory-bound row kernels (row_norm.cuh, cross_entropy.cu). One
// 128-bit load per thread instead of eight 2-byte loads puts 8x the bytes in
// flight per instruction, which is what a bandwidth-bound kernel needs. A pack
// of one element is the plain scalar access, the fallback for rows whose start
// is not 16-byte aligned.
#pragma once

#include <cstdint>

#include "ops/cuda/kernel_utils.cuh"

namespace graft::cuda {

// Elements of T in one 16-byte access.
template <class T>
constexpr int kPack16 = static_cast<int>(16 / sizeof(T));

template <class T, int kN>
struct alignas(sizeof(T) * kN) Pack {
  T e[kN];
};

// out[i] = p[i] for i < kN; p must be aligned to kN * sizeof(T).
template <class T, int kN>
__device__ __forceinline__ void load_floats(const T* p, float (&out)[kN]) {
  const Pack<T, kN> pack = *reinterpret_cast<const Pack<T, kN>*>(p);
#pragma unroll
  for (int i = 0; i < kN; ++i)
    out[i] = to_float(pack.e[i]);
}

// p[i] = in[i] (rounded to T) for i < kN; p aligned as for load_floats.
template <class T, int kN>
__device__ __forceinline__ void store_floats(T* p, const float (&in)[kN]) {
  Pack<T, kN> pack;
#pragma unroll
  for (int i = 0; i < kN; ++i)
    pack.e[i] = from_float<T>(in[i]);
  *reinterpret_cast<Pack<T, kN>*>(p) = pack;
}

// Whether every row of row_elements T starting at base begins on a 16-byte
// boundary, so the rows can be read in packs of kPack16<T>.
template <class T>
inline bool rows_are_pack_aligned(const void* base, int64_t row_elements) {
  return reinterpret_cast<uintptr_t>(base) % 16 == 0 &&
         (row_elements * static_cast<int64_t>(sizeof(T))) % 16 == 0;
}

}  // namespace graft::cuda
