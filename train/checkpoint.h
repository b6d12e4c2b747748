// HDF5 checkpoints: one file per checkpoint holding the LOGICAL (unsharded)
// tensors by parameter name, so any checkpoint loads under any tp x dp and
// into any model that names its parameters alike. Layout: train/README.md.
//
// A save validates everything first (names, shapes, finiteness: a non-finite
// state is never written), writes "<path>.tmp" and renames it, so a failed
// save leaves no temp file and every file already on disk untouched. Every
// dataset carries a CRC-32 attribute checked on load: a truncated, corrupt
// or foreign file, or a missing dataset, is a graft::InputError naming the
// file and the dataset.
//
// Integration: capture() the model and optimizer, fill in the counters,
// save; on resume load (or CheckpointManager::load_latest), restore() into a
// freshly built model and optimizer, and hand loader_state back to the
// loader (LoaderCursor::from_vector).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/parameters.h"
#include "ops/flops.h"
#include "train/optimizer.h"

namespace graft {

class Model;

inline constexpr const char* kCheckpointFormat = "graft-checkpoint";
inline constexpr int64_t kCheckpointVersion = 1;

struct CheckpointContents {
  // Logical tensors in the model's registration order (canonical names, no
  // aliases). f32, f64 and i32 are stored as they are; bf16 is stored as the
  // f32 it widens to exactly, with dtype "bf16" recorded to narrow it back.
  std::vector<NamedParameter> parameters;
  // AdamW state by parameter name; empty for a weights-only checkpoint.
  std::map<std::string, ParameterState> optimizer;
  int64_t step = 0;           // optimizer steps completed in this stage
  int64_t tokens = 0;         // tokens seen in this stage
  FlopsLedger flops;          // executed by this stage so far
  FlopsLedger carried_flops;  // earlier stages of a multi-stage recipe
  // Opaque loader / RNG state, e.g. LoaderCursor::to_vector().
  std::vector<int64_t> loader_state;
  uint64_t seed = 0;      // the run seed
  std::string config;     // the resolved config, TOML text
  std::string tokenizer;  // Tokenizer::serialized(); empty: none
  // The file these contents were loaded from, for messages; empty otherwise.
  std::string source;

  // flops + carried_flops: the whole recipe's cost so far.
  FlopsLedger total_flops() const;
  const Tensor& parameter(const std::string& name) const;  // InputError when absent
};

// graft::Error naming the first parameter or moment (m / v) that holds a NaN
// or an infinity. save_checkpoint calls it before creating any file.
void check_finite(const CheckpointContents& contents);

// Writes contents to path (through "<path>.tmp"). Error on invalid contents
// (duplicate or malformed names, moments whose shape differs from their
// parameter's, non-finite values) or an I/O failure; nothing is left behind.
void save_checkpoint(const std::string& path, const CheckpointContents& contents);

// Reads and verifies every dataset; InputError naming path (and the dataset)
// for anything wrong with the file.
CheckpointContents load_checkpoint(const std::string& path);

// What `graft ckpt inspect` shows: every dataset with its checksum verdict.
struct DatasetCheck {
  std::string dataset;  // e.g. "/params/embed.tokens.weight"
  Shape shape;
  std::string dtype;  // "f32", "bf16", "f64", "i32", "i64", "u8"
  uint32_t stored_crc = 0;
  uint32_t computed_crc = 0;
  std::string problem;  // empty when the dataset reads and its checksum matches
  bool ok() const { return problem.empty(); }
};

struct CheckpointReport {
  int64_t version = 0;
  CheckpointContents contents;  // a tensor that cannot be read is left undefined
  std::vector<DatasetCheck> datasets;
  int64_t failures() const;
};

// Like load_checkpoint, but a dataset that fails to read or verify is
// recorded rather than thrown; a file that cannot be opened, is not a graft
// checkpoint or lacks its index is still an InputError.
CheckpointReport verify_checkpoint(const std::string& path);

// The model's parameters (and optimizer state when given) as contents; the
// tensors share storage with the model, so save before the next step. The
// caller fills in step, tokens, flops, loader_state, seed, config, tokenizer.
CheckpointContents capture(const Parameters& parameters, const AdamW* optimizer = nullptr);
CheckpointContents capture(const Model& model, const AdamW* optimizer = nullptr);

// Copies the checkpoint's values into parameters, converting dtype when the
// model is built in another precision. The names must match exactly: a
// parameter the checkpoint lacks, one the model lacks, or a shape mismatch
// is an InputError naming the parameter (and both shapes) and the file.
void restore_parameters(const CheckpointContents& contents, Parameters& parameters);
// Moments and per-parameter steps, with the same checks; InputError when the
// checkpoint holds no optimizer state.
void restore_optimizer(const CheckpointContents& contents, AdamW& optimizer);
// Both (the optimizer only when given).
void restore(const CheckpointContents& contents, Model& model, AdamW* optimizer = nullptr);

}  // namespace graft
