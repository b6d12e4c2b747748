// Warm-starting an encoder-decoder from encoder-only (BERT-like) and
// decoder-only (GPT-like) checkpoints: Rothe, Narayan & Severyn 2020,
// "Leveraging Pre-trained Checkpoints for Sequence Generation Tasks" (TACL).
//
// graft's encoder-decoder has one token embedding shared by both stacks and
// the tied LM head, and every block is pre-norm with a final norm per stack,
// so a stack initialised "from a checkpoint" takes that checkpoint's
// positions, layers and final norm:
//   encoder.X          <- <side>.X      X = positions.weight, layers.i.*, final_norm.*
//   decoder.X          <- <side>.X      same, except layers.i.cross_attn*
// where <side> is the source's "encoder" stack for an encoder checkpoint and
// its "decoder" stack for a decoder checkpoint. Always random, as in the
// paper: the decoder's cross-attention (decoder.layers.i.cross_attn_norm.*,
// decoder.layers.i.cross_attn.*). The decoder is causal by construction,
// which is how a BERT layer becomes a decoder layer; a GPT layer used as an
// encoder layer becomes bidirectional the same way.
// embed.tokens.weight comes from the checkpoint that initialises the encoder,
// else the one that initialises the decoder (RND2BERT), else is random.
// Heads: mlm_head/rtd_head/classifier (they read the encoder) are copied from
// the encoder's checkpoint where it has them with the same shape; an untied
// lm_head.weight (it reads the decoder) from the decoder's checkpoint likewise;
// the rest is random.
// Every checkpoint must match the target's blocks (d_model, num_heads, d_ff,
// norm, norm_eps, positions, max_positions / rotary_base), vocab_size, and
// the layer count of the stack it fills; mismatches are InputErrors naming
// the key and both values.
#pragma once

#include <cstdint>
#include <string_view>

#include "recipes/transforms/transform.h"

namespace graft {

// Both stacks from an encoder checkpoint (encoder.layers.i.X ->
// decoder.layers.i.X for self-attention, MLP and norms).
TransformResult bert2bert(const SourceModel& encoder_checkpoint, const ModelConfig& target,
                          uint64_t seed = 0);
// Like bert2bert but the decoder's tensors ARE the encoder's (the returned
// config has share_encoder_decoder = true; the report lists the aliases as
// shared): one gradient update moves both. target.encoder_layers must equal
// decoder_layers.
TransformResult bert_share(const SourceModel& encoder_checkpoint, const ModelConfig& target,
                           uint64_t seed = 0);
// Encoder from an encoder checkpoint, decoder from a decoder checkpoint's
// decoder.* (both must share the target's vocabulary: one embedding, taken
// from the encoder checkpoint).
TransformResult bert2gpt(const SourceModel& encoder_checkpoint,
                         const SourceModel& decoder_checkpoint, const ModelConfig& target,
                         uint64_t seed = 0);
// Both stacks from a decoder checkpoint's decoder.* (and its embedding).
TransformResult gpt_only(const SourceModel& decoder_checkpoint, const ModelConfig& target,
                         uint64_t seed = 0);
// Random encoder; decoder (and embedding) from an encoder checkpoint.
TransformResult rnd2bert(const SourceModel& encoder_checkpoint, const ModelConfig& target,
                         uint64_t seed = 0);
// Encoder (and embedding) from an encoder checkpoint; random decoder.
TransformResult bert2rnd(const SourceModel& encoder_checkpoint, const ModelConfig& target,
                         uint64_t seed = 0);

// The schemes by name, for recipe files: "bert2bert", "bertshare",
// "bert2gpt", "gpt_only", "rnd2bert", "bert2rnd", "rnd2rnd" (all random: the
// from-scratch baseline, reported like the others).
enum class WarmStart { bert2bert, bert_share, bert2gpt, gpt_only, rnd2bert, bert2rnd, rnd2rnd };
const char* warm_start_name(WarmStart scheme);
WarmStart parse_warm_start(std::string_view text, std::string_view key = "warm_start");
// The scheme's function; a checkpoint the scheme needs and that is null is an
// InputError, one it does not use is ignored.
TransformResult warm_start(WarmStart scheme, const SourceModel* encoder_checkpoint,
                           const SourceModel* decoder_checkpoint, const ModelConfig& target,
                           uint64_t seed = 0);

}  // namespace graft
