#include "ops/adamw.h"

#include <cmath>

#include "ops/cpu/adamw.h"
#include "ops/op_checks.h"

namespace graft {

void adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                int64_t step, const AdamWOptions& options) {
  const char* op = "adamw_step";
  check_float_arg(op, "param", param);
  check_float_arg(op, "grad", grad, param);
  check_float_arg(op, "m", m, param);
  check_float_arg(op, "v", v, param);
  check_shape_arg(op, "grad", grad, param.shape());
  check_shape_arg(op, "m", m, param.shape());
  check_shape_arg(op, "v", v, param.shape());
  GRAFT_CHECK(step >= 1, op << ": step starts at 1, got " << step);
  GRAFT_CHECK(options.lr >= 0 && std::isfinite(options.lr),
              op << ": lr must be finite and >= 0, got " << options.lr);
  GRAFT_CHECK(options.beta1 >= 0 && options.beta1 < 1,
              op << ": beta1 must be in [0, 1), got " << options.beta1);
  GRAFT_CHECK(options.beta2 >= 0 && options.beta2 < 1,
              op << ": beta2 must be in [0, 1), got " << options.beta2);
  GRAFT_CHECK(options.eps > 0, op << ": eps must be > 0, got " << options.eps);
  GRAFT_CHECK(options.weight_decay >= 0,
              op << ": weight_decay must be >= 0, got " << options.weight_decay);
  if (param.device() != Device::cpu) fail_unsupported_device(op, param);
  cpu::adamw_step(param, grad, m, v, step, options);
}

}  // namespace graft
