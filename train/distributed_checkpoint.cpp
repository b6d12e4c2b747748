#include "train/distributed_checkpoint.h"

#include "model/tensor_parallel.h"

namespace graft {

CheckpointContents capture_logical(const Model& model, const AdamW* optimizer,
                                   const TrainingGrid& grid) {
  if (grid.tp_size <= 1) return capture(model, optimizer);
  const ShardingRules& rules = megatron_sharding_rules();
  CheckpointContents c;
  const Parameters logical = gather_logical(model.parameters(), rules, *grid.tp);
  c.parameters = logical.entries();
  if (optimizer) {
    // std::map order: every tp rank gathers the same names in the same order.
    for (const auto& [name, state] : optimizer->state()) {
      const int dim = shard_dim(rules, name);
      ParameterState s;
      s.m = gather_tensor(state.m, dim, *grid.tp);
      s.v = gather_tensor(state.v, dim, *grid.tp);
      s.step = state.step;
      c.optimizer.emplace(name, std::move(s));
    }
  }
  return c;
}

CheckpointContents shard_contents(const CheckpointContents& logical, const TrainingGrid& grid) {
  CheckpointContents c = logical;
  if (grid.tp_size <= 1) return c;
  const ShardingRules& rules = megatron_sharding_rules();
  const std::string where = logical.source.empty() ? "" : logical.source + ": ";
  try {
    for (NamedParameter& p : c.parameters) {
      p.tensor =
          shard_tensor(p.tensor, shard_dim(rules, p.name), grid.tp_rank, grid.tp_size, p.name);
    }
    for (auto& [name, s] : c.optimizer) {
      const int dim = shard_dim(rules, name);
      s.m = shard_tensor(s.m, dim, grid.tp_rank, grid.tp_size, name);
      s.v = shard_tensor(s.v, dim, grid.tp_rank, grid.tp_size, name);
    }
  } catch (const InputError& e) {
    throw InputError(where + "cannot split the checkpoint " + std::to_string(grid.tp_size) +
                     " ways: " + e.what());
  }
  return c;
}

void restore_sharded(const CheckpointContents& logical, Model& model, AdamW* optimizer,
                     const TrainingGrid& grid) {
  if (grid.tp_size <= 1) {
    restore(logical, model, optimizer);
    return;
  }
  restore(shard_contents(logical, grid), model, optimizer);
}

}  // namespace graft
