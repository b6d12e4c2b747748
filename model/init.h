// ParamInit: creates a model's parameters, registers them under their names
// and initialises them deterministically.
//
// Each tensor's values come from a generator seeded by (model seed, name), not
// from one stream in creation order: adding a head or a layer leaves every
// other parameter's initial values unchanged, so models of different kinds
// built with one seed agree on the parameters they share by name.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "model/parameters.h"
#include "model/tensor_parallel.h"
#include "ops/tensor.h"

namespace graft {

class ParamInit {
 public:
  ParamInit(Parameters& params, uint64_t seed, DType dtype, double std)
      : params_(params), seed_(seed), dtype_(dtype), std_(std) {}

  // N(0, std²) (weights and embeddings), ones (norm weights), zeros (biases).
  Tensor normal(const std::string& name, const Shape& shape);
  Tensor ones(const std::string& name, const Shape& shape);
  Tensor zeros(const std::string& name, const Shape& shape);

  DType dtype() const { return dtype_; }

  // Parameter sharing: for a name that bind maps to another, already
  // registered name, normal/ones/zeros return that tensor (same shape
  // required) and register the name as its alias instead of creating one.
  // bind returns an empty string for names that get their own tensor.
  using Binding = std::function<std::string(const std::string& name)>;
  void set_binding(Binding bind) { bind_ = std::move(bind); }

  // Tensor parallelism: parameters that megatron_sharding_rules() split are
  // generated whole (values still keyed by (seed, name)) and registered as
  // this rank's shard under the logical name; layers read tp to know their
  // rank and communicator.
  void set_tensor_parallel(const TensorParallel& tp) { tp_ = tp; }
  const TensorParallel& tensor_parallel() const { return tp_; }

 private:
  Tensor add(const std::string& name, Tensor t);
  // The bound tensor for name, or undefined when name is not bound.
  Tensor bound(const std::string& name, const Shape& shape);

  Parameters& params_;
  uint64_t seed_;
  DType dtype_;
  double std_;
  Binding bind_;
  TensorParallel tp_;
};

}  // namespace graft
