#include "recipes/transforms/transform.h"

#include <algorithm>
#include <sstream>

namespace graft {

std::vector<std::string> TransformReport::copied_names() const {
  std::vector<std::string> out;
  out.reserve(copied.size());
  for (const CopiedParameter& c : copied)
    out.push_back(c.name);
  return out;
}

std::string TransformReport::summary() const {
  std::ostringstream out;
  out << transform << ": copied " << copied.size() << " tensors (" << copied_numel
      << " elements), shared " << shared.size() << ", computed " << computed.size() << " ("
      << computed_numel << "), random " << random.size() << " (" << random_numel << ")";
  return out.str();
}

TransformBuilder::TransformBuilder(std::string transform, const ModelConfig& target, uint64_t seed,
                                   DType dtype) {
  report_.transform = std::move(transform);
  try {
    target.validate();
  } catch (const InputError& e) {
    throw InputError(report_.transform + ": target config: " + e.what());
  }
  model_ = make_model(target, seed, dtype);
}

void TransformBuilder::copy(const std::string& to, const SourceModel& source,
                            const std::string& from) {
  const Parameters& target = model_->parameters();
  GRAFT_CHECK(target.contains(to) && !target.is_alias(to),
              transform() << ": the target has no parameter " << to << " of its own");
  GRAFT_CHECK(!filled(to), transform() << ": " << to << " filled twice");
  GRAFT_INPUT_CHECK(source.parameters.contains(from), transform()
                                                          << ": the source has no parameter "
                                                          << from << " (for " << to << ")");
  const Tensor& src = source.parameters.get(from);
  const Tensor& dst = target.get(to);
  GRAFT_INPUT_CHECK(src.shape() == dst.shape(),
                    transform() << ": cannot copy " << from << " " << shape_string(src.shape())
                                << " into " << to << " " << shape_string(dst.shape()));
  dst.copy_from(src.dtype() == dst.dtype() ? src : src.to(dst.dtype()));
  report_.copied.push_back({to, from});
  filled_.insert(to);
  report_.copied_numel += dst.numel();
}

size_t TransformBuilder::copy_prefix(const std::string& target_prefix, const SourceModel& source,
                                     const std::string& source_prefix,
                                     const std::vector<std::string>& skip) {
  size_t count = 0;
  for (const NamedParameter& e : model_->parameters().entries()) {
    if (e.name.rfind(target_prefix, 0) != 0) continue;
    if (std::any_of(skip.begin(), skip.end(),
                    [&](const std::string& s) { return e.name.find(s) != std::string::npos; })) {
      continue;
    }
    copy(e.name, source, source_prefix + e.name.substr(target_prefix.size()));
    ++count;
  }
  return count;
}

size_t TransformBuilder::copy_if_present(const std::string& prefix, const SourceModel& source,
                                         const std::vector<std::string>& skip) {
  size_t count = 0;
  for (const NamedParameter& e : model_->parameters().entries()) {
    if (e.name.rfind(prefix, 0) != 0 || !source.parameters.contains(e.name)) continue;
    if (filled(e.name) || std::find(skip.begin(), skip.end(), e.name) != skip.end()) continue;
    if (source.parameters.get(e.name).shape() != e.tensor.shape()) continue;
    copy(e.name, source, e.name);
    ++count;
  }
  return count;
}

void TransformBuilder::set_computed(const std::string& name, const Tensor& values) {
  const Parameters& target = model_->parameters();
  GRAFT_CHECK(target.contains(name) && !target.is_alias(name),
              transform() << ": the target has no parameter " << name << " of its own");
  GRAFT_CHECK(!filled(name), transform() << ": " << name << " filled twice");
  const Tensor& dst = target.get(name);
  GRAFT_CHECK(values.shape() == dst.shape(),
              transform() << ": computed " << name << " has shape " << shape_string(values.shape())
                          << ", the target " << shape_string(dst.shape()));
  dst.copy_from(values.dtype() == dst.dtype() ? values : values.to(dst.dtype()));
  report_.computed.push_back(name);
  filled_.insert(name);
  report_.computed_numel += dst.numel();
}

TransformResult TransformBuilder::finish() {
  const Parameters& target = model_->parameters();
  for (const NamedParameter& e : target.entries()) {
    if (filled(e.name)) continue;
    report_.random.push_back(e.name);
    report_.random_numel += e.tensor.numel();
  }
  for (const auto& [alias, canonical] : target.aliases())
    report_.shared.push_back({alias, canonical});
  return {std::move(model_), std::move(report_)};
}

void expect_same(std::string_view transform, std::string_view key, int64_t target, int64_t source,
                 std::string_view what) {
  GRAFT_INPUT_CHECK(target == source, transform << ": " << key << " mismatch: target " << key
                                                << " = " << target << ", " << what << " " << key
                                                << " = " << source);
}

namespace {

void expect_same_text(std::string_view transform, std::string_view key, std::string_view target,
                      std::string_view source, std::string_view what) {
  GRAFT_INPUT_CHECK(target == source, transform << ": " << key << " mismatch: target " << key
                                                << " = " << target << ", " << what << " " << key
                                                << " = " << source);
}

void expect_same_real(std::string_view transform, std::string_view key, double target,
                      double source, std::string_view what) {
  GRAFT_INPUT_CHECK(target == source, transform << ": " << key << " mismatch: target " << key
                                                << " = " << target << ", " << what << " " << key
                                                << " = " << source);
}

}  // namespace

void expect_same_blocks(std::string_view transform, const ModelConfig& target,
                        const ModelConfig& source, std::string_view what) {
  expect_same(transform, "d_model", target.d_model, source.d_model, what);
  expect_same(transform, "num_heads", target.num_heads, source.num_heads, what);
  expect_same(transform, "d_ff", target.d_ff, source.d_ff, what);
  expect_same_text(transform, "norm", norm_name(target.norm), norm_name(source.norm), what);
  expect_same_real(transform, "norm_eps", target.norm_eps, source.norm_eps, what);
  expect_same_text(transform, "positions", position_name(target.positions),
                   position_name(source.positions), what);
  if (target.positions == PositionKind::learned) {
    expect_same(transform, "max_positions", target.max_positions, source.max_positions, what);
  } else {
    expect_same_real(transform, "rotary_base", target.rotary_base, source.rotary_base, what);
  }
}

void expect_same_layers(std::string_view transform, std::string_view target_key, int64_t target,
                        std::string_view source_key, int64_t source, std::string_view what) {
  GRAFT_INPUT_CHECK(target == source, transform << ": layer count mismatch: target " << target_key
                                                << " = " << target << ", " << what << " "
                                                << source_key << " = " << source);
}

void expect_stack(std::string_view transform, const ModelConfig& source, std::string_view stack,
                  std::string_view what) {
  const bool has = stack == "encoder" ? source.has_encoder() : source.has_decoder();
  GRAFT_INPUT_CHECK(has, transform << ": the " << what << " has kind = " << kind_name(source.kind)
                                   << ", which has no " << stack);
}

void expect_target_kind(std::string_view transform, const ModelConfig& target, ModelKind kind) {
  GRAFT_INPUT_CHECK(target.kind == kind, transform << ": target kind = " << kind_name(target.kind)
                                                   << ", expected kind = " << kind_name(kind));
}

DType source_dtype(const SourceModel& source) {
  return source.parameters.get("embed.tokens.weight").dtype();
}

}  // namespace graft
