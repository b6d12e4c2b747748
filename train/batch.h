// Batch: the tensors one micro-batch hands to a Task. Which fields are set
// depends on the objective (data/, recipes/objectives): a CLM batch has
// input_ids and shifted targets; MLM masked input_ids and targets with
// ignore_index elsewhere; span corruption encoder_ids plus decoder input_ids
// and targets; classification targets of shape [B].
#pragma once

#include <cstdint>

#include "ops/tensor.h"

namespace graft {

struct Batch {
  // i32 [B, T]: what the model's main stack reads (the decoder's input for a
  // decoder or encoder-decoder, the encoder's for an encoder).
  Tensor input_ids;
  Tensor input_mask;  // i32 [B, T], 1 real / 0 padding, or undefined
  // Encoder-decoder only: the source, i32 [B, Te], and its mask.
  Tensor encoder_ids;
  Tensor encoder_mask;
  // i32 [B, T] token targets (ignore_index where nothing is predicted) or
  // [B] class labels.
  Tensor targets;
  // UTF-8 bytes of text the counted targets stand for (0: unknown), so
  // evaluation can report bits per byte, comparable across tokenizers.
  int64_t text_bytes = 0;

  int64_t batch_size() const { return input_ids.defined() ? input_ids.dim(0) : 0; }
  // Positions the model's stacks process: what tokens/s counts.
  int64_t tokens() const {
    int64_t n = input_ids.defined() ? input_ids.numel() : 0;
    if (encoder_ids.defined()) n += encoder_ids.numel();
    return n;
  }
};

// The same batch with its tensors on device (itself when already there):
// loaders build batches on the CPU, a GPU model reads them from the GPU.
Batch batch_on(const Batch& batch, Device device);

}  // namespace graft
