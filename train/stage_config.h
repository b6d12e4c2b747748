// A stage config: one training stage's TOML file (what `graft train --config`
// reads and every run folder's config.toml holds, fully resolved).
//
//   [model]      model/config_toml.h's keys (kind, preset, d_model, ...)
//   [optimizer]  lr, min_lr, betas = [b1, b2], eps, weight_decay,
//                warmup_steps, schedule (cosine|linear|inverse_sqrt|constant),
//                clip_norm (0: no clipping); every number finite
//   [training]   steps, batch_size (per micro-batch), grad_accum, seq_len,
//                seed, eval_interval (0: at the end), eval_batches,
//                log_interval, freeze = [glob patterns], unfreeze_step
//                (0: never), max_nonfinite_steps, row_shards (CPU: rows of
//                a micro-batch trained at once on their own threads; see
//                train/trainer.h)
//   [data]       source ("fortunes" | "store"), objective (clm | mlm |
//                span_corruption | classification | seq2seq; rtd | spactor |
//                tlm through recipes/runner), dir (the fortunes folder),
//                train / valid (store paths), valid_fraction, split_seed
//   [run]        dir (the run folder)
//   [distributed] tp, dp (0: world / tp), timeout (seconds, >= 0; 0 or inf:
//                no collective timeout); model.device
//                (cpu | cuda) and model.dtype (f32 | f64 | bf16: bf16 needs
//                cuda, f64 needs cpu) are read beside [model]'s keys
//   [checkpoint] interval (save every this many steps; 0: only at the end),
//                keep_last (checkpoints kept, 0: all; default 3)
// Every key is optional except model.kind. Unknown sections or keys, wrong
// types and invalid values are InputErrors naming the key and the file (and
// line, or the --set that set it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "model/config.h"
#include "ops/dtype.h"
#include "train/lr_schedule.h"

namespace graft {

struct OptimizerConfig {
  double lr = 1e-3;
  double min_lr = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
  int64_t warmup_steps = 0;
  DecayKind schedule = DecayKind::cosine;
  double clip_norm = 1.0;
};

struct TrainingConfig {
  int64_t steps = 100;
  int64_t batch_size = 8;
  int64_t grad_accum = 1;
  int64_t seq_len = 64;
  int64_t seed = 0;
  int64_t eval_interval = 0;
  int64_t eval_batches = 8;
  int64_t log_interval = 10;
  std::vector<std::string> freeze;
  int64_t unfreeze_step = 0;
  int64_t max_nonfinite_steps = 5;
  int64_t row_shards = 1;
};

// Where batches come from and which objective turns them into targets. A new
// source or objective: a value here (checked in stage_config.cpp), its keys,
// and a case in train/data_source.cpp.
struct DataConfig {
  std::string source = "fortunes";
  std::string objective = "clm";
  std::string dir = "/usr/share/games/fortunes";  // source = "fortunes"
  // source = "store": `graft data prepare` stores (data/README.md); text
  // stores for clm / mlm / span_corruption, classification or seq2seq stores
  // for those objectives. Objectives rtd, spactor and tlm are built by the
  // recipe runner (recipes/runner), which supplies their task and batches.
  std::string train;
  std::string valid;
  double valid_fraction = 0.05;
  int64_t split_seed = 1234;  // fixed apart from training.seed: same split for every run
};

struct RunConfig {
  std::string dir = "runs/train";
};

// Checkpoints go to <run.dir>/checkpoints; the final step is always saved.
struct CheckpointConfig {
  int64_t interval = 0;
  int64_t keep_last = 3;
};

// [distributed]: the tp × dp layout `graft train` asks DistContext for
// (dist/README.md); --tp / --dp / --timeout on the command line win. The
// world size comes from mpirun or srun and must equal tp × dp.
struct DistributedConfig {
  int64_t tp = 1;
  int64_t dp = 0;        // 0: world size / tp
  double timeout = 300;  // seconds a collective may block before the job aborts; 0 or inf: never
};

struct StageConfig {
  ModelConfig model;
  // [model] dtype = "f32" | "f64": parameters, activations and AdamW state
  // (f64 for equivalence tests, where f32 rounding would hide real bugs).
  DType model_dtype = DType::f32;
  // [model] device = "cpu" | "cuda"; dtype = "bf16" (mixed precision: bf16
  // weights and activations, f32 master weights and moments) needs cuda.
  Device model_device = Device::cpu;
  OptimizerConfig optimizer;
  TrainingConfig training;
  DataConfig data;
  RunConfig run;
  DistributedConfig distributed;
  CheckpointConfig checkpoint;
};

// Reads path, applies overrides ("section.key=value", value in TOML syntax or
// a bare string), then checks everything. InputError on any problem.
StageConfig load_stage_config(const std::string& path,
                              const std::vector<std::string>& overrides = {});

// The same from TOML text; source names it in messages.
StageConfig stage_config_from_toml_text(std::string_view text, const std::string& source,
                                        const std::vector<std::string>& overrides = {});

// The same from a parsed root table (the recipe runner merges a recipe's
// [defaults] and [[stage]] tables into one; moved nodes keep their lines).
StageConfig stage_config_from_table(toml::table root, const std::string& source,
                                    const std::vector<std::string>& overrides = {});

// Every key, explicitly: reading it back gives an equal config.
toml::table stage_config_to_toml(const StageConfig& config);
std::string stage_config_to_string(const StageConfig& config);

// Cross-field checks (seq_len within model.max_positions, the byte vocabulary
// fitting the model, ...), InputError naming the keys.
void validate_stage_config(const StageConfig& config, const std::string& source);

}  // namespace graft
