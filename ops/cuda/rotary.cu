// Rotary position embedding (GPT-NeoX "rotate_half" pairs (i, i + Dh/2)) on
// the GPU.
//
// First a small kernel fills a [seq, Dh/2] table of (cos, sin) computed in
// double and rounded to f32, as the CPU builds its table, so both sides rotate
// by the same f32 angles; then one thread per pair rotates it (backward: by
// the negated angle, the inverse rotation). The table is per call (seq·Dh/2
// entries, negligible next to B·T·H·Dh) and stays on the device.
#include "ops/cuda/pointwise.cuh"
#include "ops/cuda/rotary.h"
#include "ops/cuda/runtime.h"

namespace graft::cuda {

namespace {

constexpr int kThreads = 256;

__global__ void angle_table_kernel(int64_t seq, int64_t half, int64_t head_dim,
                                   int64_t position_offset, double base, float2* table) {
  GRAFT_FOR_EACH_ELEMENT(k, seq * half) {
    const int64_t t = k / half, i = k % half;
    const double pos = static_cast<double>(position_offset + t);
    const double angle =
        pos * pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
    table[k] = make_float2(static_cast<float>(cos(angle)), static_cast<float>(sin(angle)));
  }
}

// Rotates every (x[i], x[i + half]) pair of every head by direction·angle.
template <class T>
__global__ void rotate_kernel(const T* src, T* dst, const float2* table, int64_t pairs,
                              int64_t half, int64_t heads, int64_t seq, float direction,
                              bool accumulate) {
  GRAFT_FOR_EACH_ELEMENT(k, pairs) {
    const int64_t row = k / half, i = k % half;  // row = (b, t, h)
    const int64_t t = (row / heads) % seq;
    const float2 cs = table[t * half + i];
    const float sin_i = direction * cs.y;
    const int64_t first = row * 2 * half + i, second = first + half;
    const float x1 = to_float(src[first]), x2 = to_float(src[second]);
    const float y1 = x1 * cs.x - x2 * sin_i;
    const float y2 = x2 * cs.x + x1 * sin_i;
    store_grad(dst, first, y1, accumulate);
    store_grad(dst, second, y2, accumulate);
  }
}

Tensor angle_table(const cpu::RotaryShape& s) {
  const int64_t half = s.head_dim / 2;
  Tensor table = Tensor::empty({s.seq, half, 2}, DType::f32, Device::cuda);
  angle_table_kernel<<<grid_for(s.seq * half, kThreads), kThreads, 0, stream()>>>(
      s.seq, half, s.head_dim, s.position_offset, s.base,
      reinterpret_cast<float2*>(table.data<float>()));
  GRAFT_CUDA_CHECK_LAUNCH();
  return table;
}

void rotate(const cpu::RotaryShape& s, const Tensor& src, const Tensor& dst, float direction,
            bool accumulate, const char* op) {
  const int64_t half = s.head_dim / 2;
  const int64_t pairs = s.batch * s.seq * s.heads * half;
  GRAFT_CUDA_DISPATCH_FLOAT(src.dtype(), op, [&] {
    if (pairs == 0) return;
    const Tensor table = angle_table(s);
    rotate_kernel<<<grid_for(pairs, kThreads), kThreads, 0, stream()>>>(
        static_cast<const scalar_t*>(src.raw_data()), static_cast<scalar_t*>(dst.raw_data()),
        reinterpret_cast<const float2*>(table.data<float>()), pairs, half, s.heads, s.seq,
        direction, accumulate);
    GRAFT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace

void rotary_forward(const cpu::RotaryShape& s, const Tensor& x, const Tensor& out) {
  rotate(s, x, out, 1.0f, false, "rotary_embedding");
}

void rotary_backward(const cpu::RotaryShape& s, const Tensor& dout, const GradSlot& dx) {
  rotate(s, dout, dx.grad, -1.0f, dx.accumulate, "rotary_embedding backward");
}

}  // namespace graft::cuda
