// A stage's initial model from earlier stages' final checkpoints (the
// recipe's `init` and `from`), through recipes/transforms.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "recipes/runner/recipe_file.h"

namespace graft::runner {

struct InitResult {
  std::unique_ptr<Model> model;
  std::string report;  // the transform's one-line summary, for logs and summary.json
};

// checkpoints[i]: the final checkpoint of stage.from[i]. The model is built
// for `target` (the stage's [model]) with `seed`. init = random returns
// make_model(target, seed). InputError naming the stage for an incompatible
// source (the transforms name the key and both values).
InitResult build_initial_model(const Recipe& recipe, const RecipeStage& stage,
                               const std::vector<std::string>& checkpoints,
                               const ModelConfig& target, uint64_t seed);

}  // namespace graft::runner
