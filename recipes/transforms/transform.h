// What every model transform shares: how sources are passed in, the report of
// which target tensors were copied, shared, computed or left random, and the
// builder the transforms are written with.
//
// A transform never edits its sources. It builds the target with
// make_model(target config, seed) — so every tensor it does not fill equals a
// fresh initialisation with that seed — and then overwrites tensors by name.
// The report is what logs and the savings table cite: which weights came from
// a reused checkpoint and which were trained from scratch.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "model/model.h"

namespace graft {

// A source checkpoint: a built model, or a config and registry as loaded from
// a checkpoint. Holds references: the source must outlive the call.
struct SourceModel {
  SourceModel(const Model& model)  // NOLINT: implicit, so a Model can be passed
      : config(model.config()), parameters(model.parameters()) {}
  SourceModel(const ModelConfig& config, const Parameters& parameters)
      : config(config), parameters(parameters) {}
  const ModelConfig& config;
  const Parameters& parameters;
};

struct CopiedParameter {
  std::string name;    // in the target
  std::string source;  // in the source it was copied from
};

struct SharedParameter {
  std::string name;       // the alias (e.g. decoder.layers.0.attn.q.weight)
  std::string canonical;  // the tensor it is (e.g. encoder.layers.0.attn.q.weight)
};

struct TransformReport {
  std::string transform;  // e.g. "bert2bert"
  // Every registered target tensor is in exactly one of copied, computed and
  // random; shared lists alias names, whose tensors are counted under their
  // canonical names.
  std::vector<CopiedParameter> copied;
  std::vector<SharedParameter> shared;
  std::vector<std::string> computed;  // derived from sources by a formula (CLP)
  std::vector<std::string> random;    // fresh initialisation from the target seed
  int64_t copied_numel = 0, computed_numel = 0, random_numel = 0;

  std::vector<std::string> copied_names() const;
  // One line for logs: "bert2bert: copied 38 tensors (1234 elements), shared
  // 0, computed 0, random 16 (567)".
  std::string summary() const;
};

struct TransformResult {
  std::unique_ptr<Model> model;
  TransformReport report;
};

// The builder transforms are written with.
class TransformBuilder {
 public:
  // Builds the target model (validating config) in dtype.
  TransformBuilder(std::string transform, const ModelConfig& target, uint64_t seed, DType dtype);

  Model& model() { return *model_; }
  const std::string& transform() const { return report_.transform; }

  // Copies source's parameter from into the target's to (dtype converted;
  // InputError naming both when missing or shaped differently).
  void copy(const std::string& to, const SourceModel& source, const std::string& from);
  // Copies every target parameter named target_prefix + rest, except names
  // containing one of skip, from source_prefix + rest. Returns how many.
  size_t copy_prefix(const std::string& target_prefix, const SourceModel& source,
                     const std::string& source_prefix, const std::vector<std::string>& skip = {});
  // Copies every target parameter starting with prefix that the source has
  // under the same name and shape; the others stay random. For heads, whose
  // presence and class count legitimately differ between models. Names
  // already filled and names in skip are left alone.
  size_t copy_if_present(const std::string& prefix, const SourceModel& source,
                         const std::vector<std::string>& skip = {});
  // Sets the target's parameter name to values (same shape; converted).
  void set_computed(const std::string& name, const Tensor& values);

  // Classifies every target tensor and hands the model over.
  TransformResult finish();

 private:
  bool filled(const std::string& name) const { return filled_.count(name) > 0; }

  std::unique_ptr<Model> model_;
  TransformReport report_;
  std::unordered_set<std::string> filled_;
};

// Compatibility checks; each throws InputError "<transform>: <key> mismatch:
// target <key> = <a>, <what> <key> = <b>".
void expect_same(std::string_view transform, std::string_view key, int64_t target, int64_t source,
                 std::string_view what);
// Everything that fixes a block's tensors and meaning: d_model, num_heads,
// d_ff, norm, norm_eps, positions, and max_positions (learned) or rotary_base.
void expect_same_blocks(std::string_view transform, const ModelConfig& target,
                        const ModelConfig& source, std::string_view what);
// target's <target_key> = <n> against the source's <source_key> = <m>.
void expect_same_layers(std::string_view transform, std::string_view target_key, int64_t target,
                        std::string_view source_key, int64_t source, std::string_view what);
// The source must have the stack it is read from ("encoder" or "decoder").
void expect_stack(std::string_view transform, const ModelConfig& source, std::string_view stack,
                  std::string_view what);
// The target must be of kind.
void expect_target_kind(std::string_view transform, const ModelConfig& target, ModelKind kind);

// The dtype a transform builds its target in: its first source's.
DType source_dtype(const SourceModel& source);

}  // namespace graft
