#include "train/batch.h"

namespace graft {

namespace {
Tensor tensor_on(const Tensor& t, Device device) {
  return !t.defined() || t.device() == device ? t : t.to(device);
}
}  // namespace

Batch batch_on(const Batch& batch, Device device) {
  Batch out = batch;
  out.input_ids = tensor_on(batch.input_ids, device);
  out.input_mask = tensor_on(batch.input_mask, device);
  out.encoder_ids = tensor_on(batch.encoder_ids, device);
  out.encoder_mask = tensor_on(batch.encoder_mask, device);
  out.targets = tensor_on(batch.targets, device);
  return out;
}

}  // namespace graft
