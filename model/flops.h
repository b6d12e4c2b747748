// Analytic FLOPs of a model kind, in the PaLM / Megatron convention that
// docs/RECIPES.md ("FLOPs conventions") fixes, and that the executed ledger
// (ops/flops.h) matches exactly for a training step with every parameter
// trainable:
//   - every linear layer is one GEMM, 2 FLOPs per weight per token forward,
//     and twice that backward (dX and dW): 6·N per token over a step;
//   - attention is two GEMM-like products, 4·Tq·Tk·D forward per layer and
//     twice that backward, counted in full even when causal (12·L·D·T per
//     token over a step, PaLM's 12·L·H·Q·T);
//   - each side of an encoder-decoder is counted with its own length; the
//     decoder's cross-attention K/V projections run over the encoder
//     positions (N_xKV = 2·D²·L_d), its scores over s_d·s_e;
//   - heads are GEMMs over the positions they read: the LM head 2·D·V per
//     token, the MLM head's transform and tied decoder, the RTD head's dense
//     layer and output, the classifier per pooled example;
//   - embeddings, norms, biases, activations, softmax and losses are not
//     model FLOPs (the ledger keeps them as "other").
// Which stack a head reads (and so with which length it is counted): the LM
// head the decoder's output when there is a decoder, else the encoder's; the
// MLM, RTD and classifier heads the encoder's when there is an encoder, else
// the decoder's.
#pragma once

#include <cstdint>

#include "model/config.h"

namespace graft {

struct StepShape {
  int64_t batch = 1;
  // Positions per example of the encoder (encoder, encoder_decoder), or of
  // the memory a decoder with cross-attention attends to.
  int64_t encoder_len = 0;
  int64_t decoder_len = 0;  // positions per example of the decoder
};

struct FlopsSplit {
  double matmul = 0;
  double attention = 0;
  double model() const { return matmul + attention; }
  FlopsSplit& operator+=(const FlopsSplit& o) {
    matmul += o.matmul;
    attention += o.attention;
    return *this;
  }
};

// Forward FLOPs of one step, part by part, so a trainer can price a frozen
// part as forward only (RECIPES.md: a frozen encoder costs 2·N per token).
struct ForwardFlopsParts {
  FlopsSplit encoder;           // encoder stack
  FlopsSplit decoder;           // decoder self-attention, MLP, cross-attention Q/O and scores
  FlopsSplit decoder_cross_kv;  // cross-attention K/V projections over the encoder positions
  FlopsSplit lm_head, mlm_head, rtd_head, classifier;
  FlopsSplit total() const;
};

struct ModelFlops {
  FlopsSplit forward;
  FlopsSplit backward;
  double matmul() const { return forward.matmul + backward.matmul; }
  double attention() const { return forward.attention + backward.attention; }
  double total() const { return forward.model() + backward.model(); }  // what MFU uses
};

// Every head the config has is counted; shape must give a positive length for
// each side the kind has (InputError otherwise).
ForwardFlopsParts forward_flops_parts(const ModelConfig& config, const StepShape& shape);

// Forward + backward with every parameter trainable: backward = 2 × forward,
// except that a decoder-only model's cross-attention K/V projections read an
// external memory that takes no gradient, so they cost 1 × forward backward.
ModelFlops training_step_flops(const ModelConfig& config, const StepShape& shape);
// Forward only (evaluation, or a fully frozen model).
ModelFlops forward_step_flops(const ModelConfig& config, const StepShape& shape);

// Training model FLOPs per token: training_step_flops over the positions the
// stacks process, batch · (encoder_len + decoder_len) for an encoder-decoder.
double model_flops_per_token(const ModelConfig& config, const StepShape& shape);
// Kaplan's 6·N per token (N = non-embedding parameters, or all with
// include_embeddings); no attention term.
double kaplan_flops_per_token(const ModelConfig& config, bool include_embeddings = false);

}  // namespace graft
