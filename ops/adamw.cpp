#include "ops/adamw.h"

#include <cmath>
#include <string>

#include "ops/cpu/adamw.h"
#include "ops/cuda/adamw.h"
#include "ops/op_checks.h"

namespace graft {

namespace {

void check_hyperparameters(const char* op, double lr, const AdamWOptions& options) {
  GRAFT_CHECK(lr >= 0 && std::isfinite(lr), op << ": lr must be finite and >= 0, got " << lr);
  GRAFT_CHECK(options.beta1 >= 0 && options.beta1 < 1,
              op << ": beta1 must be in [0, 1), got " << options.beta1);
  GRAFT_CHECK(options.beta2 >= 0 && options.beta2 < 1,
              op << ": beta2 must be in [0, 1), got " << options.beta2);
  GRAFT_CHECK(options.eps > 0, op << ": eps must be > 0, got " << options.eps);
}

void check_step_and_decay(const char* op, int64_t step, double weight_decay) {
  GRAFT_CHECK(step >= 1, op << ": step starts at 1, got " << step);
  GRAFT_CHECK(weight_decay >= 0 && std::isfinite(weight_decay),
              op << ": weight_decay must be finite and >= 0, got " << weight_decay);
}

// CUDA takes f32 parameters, or bf16 parameters with an f32 master.
void check_cuda_dtypes(const std::string& op, const AdamWTensor& t) {
  const Tensor& p = t.param;
  if (t.master.defined()) {
    GRAFT_CHECK(p.dtype() == DType::bf16,
                op << ": a master copy is for bf16 params, param is " << p.describe());
    GRAFT_CHECK(t.grad.dtype() == DType::bf16 || t.grad.dtype() == DType::f32,
                op << ": grad must be bf16 or f32, got " << t.grad.describe());
    for (const Tensor* f : {&t.master, &t.m, &t.v}) {
      GRAFT_CHECK(f->dtype() == DType::f32,
                  op << ": master, m and v must be f32, got " << f->describe());
    }
  } else {
    GRAFT_CHECK(p.dtype() == DType::f32,
                op << ": on CUDA param must be f32, or bf16 with an f32 master "
                   << "(adamw_multi_step), got " << p.describe());
    for (const Tensor* f : {&t.grad, &t.m, &t.v}) {
      GRAFT_CHECK(f->dtype() == DType::f32,
                  op << ": grad, m and v must be f32 like param, got " << f->describe());
    }
  }
}

void check_tensor(const std::string& op, const AdamWTensor& t, Device device) {
  const char* name = op.c_str();
  check_float_arg(name, "param", t.param);
  GRAFT_CHECK(t.param.device() == device, op << ": all tensors must be on " << device_name(device)
                                             << ", param is " << t.param.describe());
  const Tensor* others[] = {&t.grad, &t.m, &t.v, &t.master};
  const char* names[] = {"grad", "m", "v", "master"};
  for (int k = 0; k < 4; ++k) {
    const Tensor& o = *others[k];
    if (k == 3 && !o.defined()) continue;
    check_float_arg(name, names[k], o);
    check_shape_arg(name, names[k], o, t.param.shape());
    GRAFT_CHECK(o.device() == device, op << ": " << names[k] << " is " << o.describe()
                                         << " but param is on " << device_name(device));
  }
  check_step_and_decay(name, t.step, t.weight_decay);
  if (device == Device::cuda) {
    check_cuda_dtypes(op, t);
  } else {
    GRAFT_CHECK(!t.master.defined(), op << ": master weights are for bf16 params on CUDA; CPU "
                                        << "params are f32/f64, so master must be undefined");
    for (const Tensor* f : {&t.grad, &t.m, &t.v}) {
      GRAFT_CHECK(f->dtype() == t.param.dtype(), op << ": " << f->describe()
                                                    << " must have param's dtype "
                                                    << dtype_name(t.param.dtype()));
    }
  }
}

}  // namespace

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
  check_step_and_decay(op, step, options.weight_decay);
  check_hyperparameters(op, options.lr, options);
  if (param.device() == Device::cuda) {
    const AdamWTensor t{param, grad, m, v, Tensor(), step, options.weight_decay};
    check_cuda_dtypes(op, t);
    GRAFT_ON_CUDA(op, param, cuda::adamw_multi_step({t}, options.lr, options));
  } else {
    cpu::adamw_step(param, grad, m, v, step, options);
  }
}

void adamw_multi_step(const std::vector<AdamWTensor>& tensors, double lr,
                      const AdamWOptions& options) {
  const char* op = "adamw_multi_step";
  check_hyperparameters(op, lr, options);
  if (tensors.empty()) return;
  const Device device =
      tensors.front().param.defined() ? tensors.front().param.device() : Device::cpu;
  for (size_t i = 0; i < tensors.size(); ++i)
    check_tensor(std::string(op) + ": tensors[" + std::to_string(i) + "]", tensors[i], device);
  if (device == Device::cuda) {
    GRAFT_ON_CUDA(op, tensors.front().param, cuda::adamw_multi_step(tensors, lr, options));
    return;
  }
  for (const AdamWTensor& t : tensors) {
    AdamWOptions per_tensor = options;
    per_tensor.lr = lr;
    per_tensor.weight_decay = t.weight_decay;
    cpu::adamw_step(t.param, t.grad, t.m, t.v, t.step, per_tensor);
  }
}

}  // namespace graft
