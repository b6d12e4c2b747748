// ParamInit: creates a model's parameters, registers them under their names
// and initialises them deterministically.
//
// Each tensor's values come from a generator seeded by (model seed, name), not
// from one stream in creation order: adding a head or a layer leaves every
// other parameter's initial values unchanged, so models of different kinds
// built with one seed agree on the parameters they share by name.
#pragma once

#include <cstdint>
#include <string>

#include "model/parameters.h"
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

 private:
  Tensor add(const std::string& name, Tensor t);

  Parameters& params_;
  uint64_t seed_;
  DType dtype_;
  double std_;
};

}  // namespace graft
