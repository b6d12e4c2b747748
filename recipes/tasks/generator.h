// The ELECTRA generator, as a part of its discriminator's model.
//
// Its parameters are registered under "generator." in the HOST model's
// registry (the discriminator, or SpacTor's T5), so the one Trainer, AdamW and
// checkpoint that see the host see the generator too. Build it before the
// Trainer (AdamW takes the registry at construction).
//
// Architecture, checked against google-research/electra (run_pretraining.py
// get_generator_config, _get_masked_lm_output; model/modeling.py):
//   - same depth as the host stack, width d_g = round(width_fraction · d)
//     (1/4; 1/3 for base), heads max(1, d_g / 64), d_ff = 4·d_g;
//   - embeddings shared ELECTRA-style: ELECTRA ties the embedding block
//     (word + position embeddings, of the embedding size) and, when the
//     generator's hidden size differs, projects it ("embeddings_project").
//     graft's embedding size is the host's d, so the generator reads
//     E[id] + P[pos] from the host's embed.tokens.weight and
//     <stack>.positions.weight (d wide) and projects to d_g with
//     generator.embed_project; with rotary positions nothing is shared but
//     the token table;
//   - MLM head: only the masked positions are gathered (as ELECTRA does),
//     dense d_g -> d + GELU, norm, then the tied host table E^T plus
//     generator.mlm_head.bias [V].
// Samples are drawn with the Gumbel-max trick at temperature 1 from the
// logits' values: nothing on the tape depends on them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/flops.h"
#include "model/layers.h"
#include "model/model.h"

namespace graft::recipe_tasks {

struct GeneratorOptions {
  double width_fraction = 0.25;  // ELECTRA: 1/4 (small, large), 1/3 (base)
  uint64_t seed = 0x67656e;      // parameter initialisation
};

// The generator's own transformer config: an encoder with no heads.
ModelConfig generator_config(const ModelConfig& host, int64_t host_layers,
                             const GeneratorOptions& options);

class Generator {
 public:
  // host_stack: "encoder" (ELECTRA's discriminator, SpacTor's T5 encoder).
  Generator(Model& host, const std::string& host_stack, const GeneratorOptions& options = {});

  // Logits [N, V] at the flat positions b·T + t listed in `positions` (i32
  // [N]) for ids [B, T] with mask [B, T] (or undefined).
  Tensor logits(ForwardContext& context, const Tensor& ids, const Tensor& mask,
                const Tensor& positions) const;

  const ModelConfig& config() const { return config_; }
  const Model& host() const { return host_; }
  // Forward model FLOPs for a [batch, len] input with `predicted` gathered
  // positions (stack, embedding projection, head); a step trains all of it,
  // so training costs 3 × this (model/flops.h conventions).
  FlopsSplit forward_flops(int64_t batch, int64_t len, int64_t predicted) const;

 private:
  Model& host_;
  ModelConfig config_;
  Tensor tokens_, positions_;  // the host's, shared
  std::unique_ptr<Linear> project_, transform_;
  std::vector<Block> layers_;
  std::unique_ptr<Norm> final_norm_, head_norm_;
  Tensor head_bias_;
};

// Gumbel-max samples, one per row of logits [N, V]: argmax(logit + g) with
// g = -log(-log(u)), u uniform from Rng(derive_seed(seed, keys[row])), so a
// row's sample depends on the seed, its key and its own logits only. Tasks
// key a row by its position in the global batch (global_positions), so a
// data-parallel rank samples what one rank with the whole batch would.
std::vector<int32_t> gumbel_max_samples(const Tensor& logits, uint64_t seed,
                                        const std::vector<int64_t>& keys);

// Keys for gumbel_max_samples: flat positions (b·T + t) in a batch whose row 0
// is global row first_row, as flat positions in the global batch.
std::vector<int64_t> global_positions(const std::vector<int32_t>& positions, int64_t first_row,
                                      int64_t seq_len);

// Flat positions (b·T + t) where labels != kIgnoreIndex, in order.
std::vector<int32_t> labelled_positions(const Tensor& labels);
// i32 [N]: ids.flat[positions[n]].
Tensor gather_ids(const Tensor& ids, const std::vector<int32_t>& positions);

}  // namespace graft::recipe_tasks
