// CLP-Transfer (Ostendorff & Rehm 2023, "Efficient Language Model Training
// through Cross-Lingual and Progressive Transfer Learning",
// arXiv:2301.09626): a large model in a new language and tokenizer, from a
// large source-language model and a small model trained with the target
// tokenizer (the "helper").
//
// For each target token v (target vocabulary V_t, source vocabulary V_s,
// overlap O = pieces spelled the same in both):
//   v in O:      e(v) = e_src(v)                                  (a copy)
//   v not in O:  e(v) = Σ_{u∈O} δ(v,u)·e_src(u) / Σ_{u∈O} δ(v,u)
// with δ(v,u) the raw cosine similarity of v and u in the helper's embedding
// space — no top-k, no clipping, negative similarities included, as the
// authors' reference code does. Computed in double. A zero vector has cosine
// 0 with everything (sklearn's convention, which that code uses). A token
// whose similarities sum to numerically zero (|Σδ| <= 1e-12·Σ|δ|) has no
// defined embedding: InputError naming the piece — there is no silent
// fallback.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recipes/transforms/transform.h"

namespace graft {

struct ClpStats {
  int64_t overlap = 0;   // target tokens copied from the source
  int64_t combined = 0;  // target tokens computed by the formula
};

// source: tensors whose first axis is the source vocabulary [V_s, ...]
// (f32/f64; the embedding, an untied output projection, an MLM bias);
// helper_embeddings: the small target-tokenizer model's embedding [V_t, d]
// (any d). Returns each source tensor mapped to [V_t, ...], same dtype, with
// one similarity computation for all. Overlap rows are bit-equal copies.
// Vocabularies must list distinct pieces, one per row; no overlap at all is
// an InputError.
std::vector<Tensor> clp_map(const std::vector<Tensor>& source,
                            const std::vector<std::string>& source_vocab,
                            const Tensor& helper_embeddings,
                            const std::vector<std::string>& target_vocab,
                            ClpStats* stats = nullptr);

// The embedding matrix alone: [V_t, D_large].
Tensor clp_embeddings(const Tensor& source_embeddings, const std::vector<std::string>& source_vocab,
                      const Tensor& helper_embeddings, const std::vector<std::string>& target_vocab,
                      ClpStats* stats = nullptr);

// The CLP target model: the large source model with vocab_size V_t and
//   computed  embed.tokens.weight (and lm_head.weight when untied,
//             mlm_head.bias when present) by clp_map
//   copied    every other tensor: encoder.*/decoder.* and the remaining head
//             tensors, by name
//   random    heads the source lacks
// target must equal the source's config except vocab_size = target_vocab's
// size (kind, blocks, layer counts, cross_attention and tie_embeddings are
// checked; InputError naming the key). helper: any model with the target
// tokenizer (vocab_size = target_vocab's size).
TransformResult clp_transfer(const SourceModel& large_source,
                             const std::vector<std::string>& source_vocab,
                             const SourceModel& helper,
                             const std::vector<std::string>& target_vocab,
                             const ModelConfig& target, uint64_t seed = 0);

// The comparison "plain cross-lingual transfer": the source's weights with new
// random vocabulary tensors (embed.tokens.weight, lm_head.weight,
// mlm_head.bias: a fresh initialisation from seed) for target.vocab_size.
TransformResult cross_lingual_transfer(const SourceModel& source, const ModelConfig& target,
                                       uint64_t seed = 0);

}  // namespace graft
