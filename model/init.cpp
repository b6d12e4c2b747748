#include "model/init.h"

#include <cmath>
#include <vector>

#include "model/context.h"

namespace graft {

namespace {

uint64_t name_hash(const std::string& name) {  // FNV-1a
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : name)
    h = (h ^ ch) * 0x100000001b3ull;
  return h;
}

}  // namespace

Tensor ParamInit::bound(const std::string& name, const Shape& shape) {
  if (!bind_) return Tensor();
  const std::string canonical = bind_(name);
  if (canonical.empty() || canonical == name) return Tensor();
  const Tensor& t = params_.get(canonical);
  GRAFT_CHECK(t.shape() == shape, "cannot bind " << name << " " << shape_string(shape) << " to "
                                                 << canonical << " " << shape_string(t.shape()));
  params_.add_alias(name, canonical);
  return t;
}

Tensor ParamInit::add(const std::string& name, Tensor t) {
  if (tp_.enabled()) {
    t = shard_tensor(t, shard_dim(megatron_sharding_rules(), name), tp_.rank, tp_.size, name);
  }
  t.set_requires_grad(true);
  return params_.add(name, t);
}

// Box-Muller on a splitmix64 counter stream rather than std::normal_distribution,
// whose output differs between standard libraries: initial weights must be the
// same wherever graft is built.
Tensor ParamInit::normal(const std::string& name, const Shape& shape) {
  if (Tensor t = bound(name, shape); t.defined()) return t;
  const uint64_t key = mix64(seed_ ^ mix64(name_hash(name)));
  std::vector<double> values(static_cast<size_t>(shape_numel(shape)));
  const double two_pi = 6.283185307179586;
  auto uniform = [&](uint64_t i) {  // in (0, 1]
    return (static_cast<double>(mix64(key + i) >> 11) + 1.0) * 0x1.0p-53;
  };
  for (size_t i = 0; i < values.size(); i += 2) {
    const double radius = std::sqrt(-2.0 * std::log(uniform(i))) * std_;
    const double angle = two_pi * uniform(i + 1);
    values[i] = radius * std::cos(angle);
    if (i + 1 < values.size()) values[i + 1] = radius * std::sin(angle);
  }
  Tensor t = Tensor::from_vector(values, shape);
  return add(name, dtype_ == DType::f64 ? t : t.to(dtype_));
}

Tensor ParamInit::ones(const std::string& name, const Shape& shape) {
  if (Tensor t = bound(name, shape); t.defined()) return t;
  return add(name, Tensor::full(shape, 1.0, dtype_));
}

Tensor ParamInit::zeros(const std::string& name, const Shape& shape) {
  if (Tensor t = bound(name, shape); t.defined()) return t;
  return add(name, Tensor::zeros(shape, dtype_));
}

}  // namespace graft
