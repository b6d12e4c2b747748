#include "ops/matmul.h"

#include "ops/autograd.h"
#include "ops/cpu/matmul.h"
#include "ops/cuda/matmul.h"
#include "ops/flops.h"
#include "ops/op_checks.h"

namespace graft {

namespace {

MatmulShape resolve_shape(const Tensor& a, const Tensor& b, const MatmulOptions& o, Shape& out) {
  GRAFT_CHECK(a.ndim() >= 1 && b.ndim() == 2, "matmul: a must be at least 1-D and b 2-D, got "
                                                  << a.describe() << " and " << b.describe());
  MatmulShape s;
  s.transpose_a = o.transpose_a;
  s.transpose_b = o.transpose_b;
  if (o.transpose_a) {
    GRAFT_CHECK(a.ndim() == 2, "matmul: transposed a must be 2-D, got " << a.describe());
    s.k = a.dim(0);
    s.m = a.dim(1);
    out = {s.m};
  } else {
    s.k = a.dim(-1);
    s.m = a.numel() / std::max<int64_t>(s.k, 1);
    out.assign(a.shape().begin(), a.shape().end() - 1);
  }
  const int64_t kb = o.transpose_b ? b.dim(1) : b.dim(0);
  s.n = o.transpose_b ? b.dim(0) : b.dim(1);
  GRAFT_CHECK(kb == s.k,
              "matmul: inner dimensions differ: a " << a.describe() << ", b " << b.describe());
  out.push_back(s.n);
  return s;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, const Tensor& bias, MatmulOptions options) {
  check_float_arg("matmul", "a", a);
  check_float_arg("matmul", "b", b, a);
  Shape out_shape;
  const MatmulShape s = resolve_shape(a, b, options, out_shape);
  if (bias.defined()) {
    check_float_arg("matmul", "bias", bias, a);
    check_shape_arg("matmul", "bias", bias, {s.n});
  }
  const bool gelu = options.epilogue == Epilogue::gelu;
  const bool record = needs_grad({a, b, bias});

  Tensor out = Tensor::empty(out_shape, a.dtype(), a.device());
  Tensor pre = (gelu && record) ? Tensor::empty(out_shape, a.dtype(), a.device()) : Tensor();
  if (a.device() == Device::cuda) {
    GRAFT_ON_CUDA("matmul", a, cuda::matmul_forward(s, a, b, bias, gelu, pre, out));
  } else {
    cpu::matmul_forward(s, a, b, bias, gelu, pre, out);
  }
  flops_ledger().add(Phase::forward, FlopsKind::matmul, gemm_flops(s.m, s.n, s.k));

  if (record) {
    out.set_requires_grad(true);
    tape().record("matmul", [s, a, b, bias, pre, out, gelu] {
      if (!out.has_grad()) return;
      GradSlot da, db, dbias;
      const bool want_a = a.requires_grad(), want_b = b.requires_grad();
      const bool want_bias = bias.defined() && bias.requires_grad();
      if (want_a) da = grad_slot(a);
      if (want_b) db = grad_slot(b);
      if (want_bias) dbias = grad_slot(bias);
      const GradSlot* da_ptr = want_a ? &da : nullptr;
      const GradSlot* db_ptr = want_b ? &db : nullptr;
      const GradSlot* dbias_ptr = want_bias ? &dbias : nullptr;
      if (a.device() == Device::cuda) {
        GRAFT_ON_CUDA(
            "matmul", a,
            cuda::matmul_backward(s, a, b, pre, out.grad(), gelu, da_ptr, db_ptr, dbias_ptr));
      } else {
        cpu::matmul_backward(s, a, b, pre, out.grad(), gelu, da_ptr, db_ptr, dbias_ptr);
      }
      const double one_gemm = gemm_flops(s.m, s.n, s.k);
      flops_ledger().add(Phase::backward, FlopsKind::matmul,
                         one_gemm * (static_cast<int>(want_a) + static_cast<int>(want_b)));
    });
  }
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Epilogue epilogue) {
  MatmulOptions options;
  options.transpose_b = true;
  options.epilogue = epilogue;
  return matmul(x, weight, bias, options);
}

}  // namespace graft
