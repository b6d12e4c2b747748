#include "train/stage_config.h"

#include <cmath>
#include <initializer_list>
#include <map>
#include <optional>
#include <sstream>

#include "data/byte_tokenizer.h"
#include "model/config_toml.h"
#include "model/toml_reader.h"
#include "ops/check.h"

namespace graft {

namespace {

// key path ("training.steps") -> the --set argument that wrote it.
using Overrides = std::map<std::string, std::string>;

const char* const kSections[] = {"model", "optimizer",  "training",   "data",
                                 "run",   "checkpoint", "distributed"};

// Reads [name] from root (absent: an empty section) as one TomlSection.
const toml::table* section_table(const toml::table& root, const char* name,
                                 const std::string& source, const Overrides& overrides) {
  const TomlSection top(&root, "", source, &overrides);
  const toml::node* node = top.get(name);
  if (!node) return nullptr;
  if (!node->is_table()) {
    top.fail(name, std::string("expected a table ([") + name + "]), got " + toml_type_name(*node));
  }
  return node->as_table();
}

TomlSection section(const toml::table& root, const char* name, const std::string& source,
                    const Overrides& overrides) {
  return TomlSection(section_table(root, name, source, overrides), name, source, &overrides);
}

void number_pair(const TomlSection& s, std::string_view key, double& first, double& second) {
  const toml::node* node = s.get(key);
  if (!node) return;
  const toml::array* array = node->as_array();
  if (!array || array->size() != 2 || !(*array)[0].is_number() || !(*array)[1].is_number()) {
    s.fail(key, std::string("expected an array of two numbers, got ") + toml_type_name(*node));
  }
  first = (*array)[0].value<double>().value();
  second = (*array)[1].value<double>().value();
}

toml::table parse_toml(std::string_view text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << source << ":" << e.source().begin.line << ": " << e.description();
    throw InputError(out.str());
  }
}

// "section.key=value": value is TOML ("100", "[\"embed.*\"]", "\"x\"") or,
// when it does not parse as TOML, a bare string ("linear", "/data/dir").
void apply_override(toml::table& root, const std::string& assignment, const std::string& source,
                    Overrides& overrides) {
  const std::string where = source + " (--set " + assignment + ")";
  const size_t eq = assignment.find('=');
  GRAFT_INPUT_CHECK(eq != std::string::npos && eq > 0,
                    where << ": expected --set section.key=value");
  const std::string path = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  const size_t dot = path.find('.');
  GRAFT_INPUT_CHECK(dot != std::string::npos && dot > 0 && dot + 1 < path.size() &&
                        path.find('.', dot + 1) == std::string::npos,
                    where << ": key '" << path << "' must be section.key (e.g. training.steps)");
  const std::string section = path.substr(0, dot);
  const std::string key = path.substr(dot + 1);
  bool known = false;
  for (const char* s : kSections)
    known = known || section == s;
  GRAFT_INPUT_CHECK(
      known,
      where << ": unknown section '" << section
            << "' (sections: model, optimizer, training, data, run, checkpoint, distributed)");
  if (!root.contains(section)) root.insert(section, toml::table{});
  toml::table* table = root.get_as<toml::table>(section);
  GRAFT_INPUT_CHECK(table, where << ": " << section << " is not a table in " << source);
  std::optional<toml::table> parsed;
  try {
    parsed = toml::parse("value = " + value);
  } catch (const toml::parse_error&) {
  }
  if (parsed && parsed->contains("value")) {
    table->insert_or_assign(key, *parsed->get("value"));
  } else {
    table->insert_or_assign(key, value);
  }
  overrides[path] = "--set " + assignment;
}

// A number for messages: "1e-08", "inf", "nan" (std::to_string rounds small
// values to "0.000000").
std::string number_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// Reads a number that must be finite (TOML allows inf and nan, which would
// train silently to nothing) and satisfy ok; otherwise an InputError naming
// the key with "must be <rule>".
template <class Ok>
void finite_number(const TomlSection& s, std::string_view key, double& out, Ok ok,
                   const std::string& rule) {
  s.number(key, out);
  if (!std::isfinite(out) || !ok(out)) {
    s.fail(key, "must be a finite number " + rule + ", got " + number_text(out));
  }
}

void read_optimizer(const TomlSection& s, OptimizerConfig& o) {
  s.check_keys(
      {"lr", "min_lr", "betas", "eps", "weight_decay", "warmup_steps", "schedule", "clip_norm"});
  finite_number(
      s, "lr", o.lr, [](double v) { return v > 0; }, "> 0");
  if (s.get("min_lr") == nullptr && o.min_lr > o.lr) o.min_lr = o.lr / 10;
  const double lr = o.lr;
  finite_number(
      s, "min_lr", o.min_lr, [lr](double v) { return v >= 0 && v <= lr; },
      "in [0, lr = " + number_text(lr) + "]");
  number_pair(s, "betas", o.beta1, o.beta2);
  if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1)) {
    s.fail("betas", "each beta must be in [0, 1)");
  }
  // eps = inf makes every update zero (the run "trains" and learns nothing);
  // weight_decay = inf failed only at the first step, after the run folder
  // was written.
  finite_number(
      s, "eps", o.eps, [](double v) { return v > 0; }, "> 0");
  finite_number(
      s, "weight_decay", o.weight_decay, [](double v) { return v >= 0; }, ">= 0");
  s.integer("warmup_steps", o.warmup_steps, 0);
  std::string schedule = decay_kind_name(o.schedule);
  s.string("schedule", schedule);
  try {
    o.schedule = parse_decay_kind(schedule);
  } catch (const InputError& e) {
    s.fail("schedule", e.what());
  }
  finite_number(
      s, "clip_norm", o.clip_norm, [](double v) { return v >= 0; }, ">= 0 (0: no clipping)");
}

void read_training(const TomlSection& s, TrainingConfig& t) {
  s.check_keys({"steps", "batch_size", "grad_accum", "seq_len", "seed", "eval_interval",
                "eval_batches", "log_interval", "freeze", "unfreeze_step", "max_nonfinite_steps",
                "row_shards"});
  s.integer("steps", t.steps, 1);
  s.integer("batch_size", t.batch_size, 1);
  s.integer("grad_accum", t.grad_accum, 1);
  s.integer("seq_len", t.seq_len, 1);
  s.integer("seed", t.seed, 0);
  s.integer("eval_interval", t.eval_interval, 0);
  s.integer("eval_batches", t.eval_batches, 0);
  s.integer("log_interval", t.log_interval, 1);
  s.string_array("freeze", t.freeze);
  s.integer("unfreeze_step", t.unfreeze_step, 0);
  s.integer("max_nonfinite_steps", t.max_nonfinite_steps, 1);
  s.integer("row_shards", t.row_shards, 1);
}

void read_data(const TomlSection& s, DataConfig& d) {
  s.check_keys({"source", "objective", "dir", "train", "valid", "valid_fraction", "split_seed"});
  s.string("source", d.source);
  if (d.source != "fortunes" && d.source != "store") {
    s.fail("source", "unknown source '" + d.source + "' (available: fortunes, store)");
  }
  s.string("objective", d.objective);
  if (d.source == "fortunes" && d.objective != "clm") {
    s.fail("objective", "data.source = \"fortunes\" trains objective clm only, got '" +
                            d.objective + "' (use data.source = \"store\")");
  }
  static const char* const kObjectives[] = {"clm",     "mlm", "span_corruption", "classification",
                                            "seq2seq", "rtd", "spactor",         "tlm"};
  bool known = false;
  for (const char* o : kObjectives)
    known = known || d.objective == o;
  if (!known) {
    s.fail("objective", "unknown objective '" + d.objective +
                            "' (available: clm, mlm, span_corruption, classification, seq2seq; "
                            "rtd, spactor, tlm through graft recipe run)");
  }
  s.string("dir", d.dir);
  s.string("train", d.train);
  s.string("valid", d.valid);
  if (d.source == "store" && d.train.empty()) s.fail("train", "data.source = \"store\" needs it");
  if (d.source == "store" && d.valid.empty()) s.fail("valid", "data.source = \"store\" needs it");
  s.number("valid_fraction", d.valid_fraction);
  if (!(d.valid_fraction > 0 && d.valid_fraction < 1)) {
    s.fail("valid_fraction", "must be in (0, 1), got " + std::to_string(d.valid_fraction));
  }
  s.integer("split_seed", d.split_seed, 0);
}

void read_run(const TomlSection& s, RunConfig& r) {
  s.check_keys({"dir"});
  s.string("dir", r.dir);
  if (r.dir.empty()) s.fail("dir", "must not be empty");
}

void read_distributed(const TomlSection& s, DistributedConfig& d) {
  s.check_keys({"tp", "dp", "timeout"});
  s.integer("tp", d.tp, 1);
  s.integer("dp", d.dp, 0);
  s.number("timeout", d.timeout);
  // 0 (and inf) turn the collective watchdog off; a negative or NaN timeout
  // used to do the same silently.
  if (!(d.timeout >= 0)) {
    s.fail("timeout",
           "must be >= 0 seconds (0 or inf: no collective timeout), got " + number_text(d.timeout));
  }
}

void read_checkpoint(const TomlSection& s, CheckpointConfig& c) {
  s.check_keys({"interval", "keep_last"});
  s.integer("interval", c.interval, 0);
  s.integer("keep_last", c.keep_last, 0);
}

StageConfig stage_config_from_table(const toml::table& root, const std::string& source,
                                    const Overrides& overrides) {
  const TomlSection top(&root, "", source, &overrides);
  for (const auto& [key, node] : root) {
    bool known = false;
    for (const char* s : kSections)
      known = known || key.str() == s;
    if (!known) {
      throw InputError(
          top.where(key.str()) + ": unknown section or key '" + std::string(key.str()) +
          "' (sections: model, optimizer, training, data, run, checkpoint, distributed)");
    }
  }
  StageConfig c;
  const toml::table* model = section_table(root, "model", source, overrides);
  GRAFT_INPUT_CHECK(model, source << ": missing [model] section (model.kind is required)");
  // model.dtype is the stage's, not the architecture's: read it here and hand
  // the model reader the rest.
  toml::table architecture = *model;
  const TomlSection model_section(model, "model", source, &overrides);
  if (const std::optional<std::string> name = model_section.string("device")) {
    if (*name != "cpu" && *name != "cuda")
      model_section.fail("device", "must be \"cpu\" or \"cuda\", got \"" + *name + "\"");
    c.model_device = *name == "cuda" ? Device::cuda : Device::cpu;
    architecture.erase("device");
  }
  if (const std::optional<std::string> name = model_section.string("dtype")) {
    if (*name != "f32" && *name != "f64" && *name != "bf16")
      model_section.fail("dtype", "must be \"f32\", \"f64\" or \"bf16\", got \"" + *name + "\"");
    c.model_dtype = parse_dtype(*name);
    if (c.model_dtype == DType::bf16 && c.model_device != Device::cuda)
      model_section.fail("dtype", "bf16 (mixed precision) needs model.device = \"cuda\"");
    if (c.model_dtype == DType::f64 && c.model_device == Device::cuda)
      model_section.fail("dtype", "f64 runs on the CPU only (model.device = \"cpu\")");
    architecture.erase("dtype");
  }
  model = &architecture;
  try {
    c.model = model_config_from_toml(*model, source, "model");
  } catch (const InputError& e) {
    // The model reader names the file; say which --set it was when one was.
    std::string message = e.what();
    for (const auto& [path, assignment] : overrides) {
      if (path.rfind("model.", 0) == 0 && message.find(path) != std::string::npos) {
        message += " (from " + assignment + ")";
      }
    }
    throw InputError(message);
  }
  read_optimizer(section(root, "optimizer", source, overrides), c.optimizer);
  read_training(section(root, "training", source, overrides), c.training);
  read_data(section(root, "data", source, overrides), c.data);
  read_run(section(root, "run", source, overrides), c.run);
  read_distributed(section(root, "distributed", source, overrides), c.distributed);
  read_checkpoint(section(root, "checkpoint", source, overrides), c.checkpoint);
  validate_stage_config(c, source);
  return c;
}

}  // namespace

void validate_stage_config(const StageConfig& c, const std::string& source) {
  GRAFT_INPUT_CHECK(c.training.seq_len <= c.model.max_positions,
                    source << ": training.seq_len = " << c.training.seq_len
                           << " exceeds model.max_positions = " << c.model.max_positions);
  if (c.data.objective == "clm") {
    GRAFT_INPUT_CHECK(c.model.kind == ModelKind::decoder && c.model.lm_head,
                      source << ": data.objective = \"clm\" needs model.kind = \"decoder\" with "
                                "an lm head, got "
                             << kind_name(c.model.kind));
  }
  if (c.data.objective == "mlm" || c.data.objective == "classification") {
    GRAFT_INPUT_CHECK(c.model.kind == ModelKind::encoder,
                      source << ": data.objective = \"" << c.data.objective
                             << "\" needs model.kind = \"encoder\", got "
                             << kind_name(c.model.kind));
  }
  if (c.data.objective == "span_corruption" || c.data.objective == "seq2seq") {
    GRAFT_INPUT_CHECK(c.model.kind == ModelKind::encoder_decoder,
                      source << ": data.objective = \"" << c.data.objective
                             << "\" needs model.kind = \"encoder_decoder\", got "
                             << kind_name(c.model.kind));
  }
  if (c.data.source == "fortunes") {
    // Up to 127 unused ids let the vocabulary be padded to a multiple of tp
    // (Megatron's padding); byte ids never reach them.
    GRAFT_INPUT_CHECK(c.model.vocab_size >= ByteTokenizer::kVocabSize &&
                          c.model.vocab_size < ByteTokenizer::kVocabSize + 128,
                      source << ": model.vocab_size = " << c.model.vocab_size
                             << " but data.source = \"fortunes\" uses byte tokens: set "
                                "model.vocab_size = "
                             << ByteTokenizer::kVocabSize
                             << " (or pad it by up to 127 to a multiple of distributed.tp)");
  }
}

StageConfig stage_config_from_table(toml::table root, const std::string& source,
                                    const std::vector<std::string>& overrides) {
  Overrides set;
  for (const std::string& assignment : overrides)
    apply_override(root, assignment, source, set);
  return stage_config_from_table(static_cast<const toml::table&>(root), source, set);
}

StageConfig stage_config_from_toml_text(std::string_view text, const std::string& source,
                                        const std::vector<std::string>& overrides) {
  toml::table root = parse_toml(text, source);
  Overrides set;
  for (const std::string& assignment : overrides)
    apply_override(root, assignment, source, set);
  return stage_config_from_table(root, source, set);
}

StageConfig load_stage_config(const std::string& path, const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << path;
    if (e.source().begin.line > 0) out << ":" << e.source().begin.line;
    out << ": " << e.description();
    throw InputError(out.str());
  }
  Overrides set;
  for (const std::string& assignment : overrides)
    apply_override(root, assignment, path, set);
  return stage_config_from_table(root, path, set);
}

toml::table stage_config_to_toml(const StageConfig& c) {
  toml::array freeze;
  for (const std::string& p : c.training.freeze)
    freeze.push_back(p);
  const OptimizerConfig& o = c.optimizer;
  const TrainingConfig& t = c.training;
  toml::table model = model_config_to_toml(c.model);
  model.insert_or_assign("dtype", dtype_name(c.model_dtype));
  model.insert_or_assign("device", device_name(c.model_device));
  return toml::table{{"model", model},
                     {"optimizer", toml::table{{"lr", o.lr},
                                               {"min_lr", o.min_lr},
                                               {"betas", toml::array{o.beta1, o.beta2}},
                                               {"eps", o.eps},
                                               {"weight_decay", o.weight_decay},
                                               {"warmup_steps", o.warmup_steps},
                                               {"schedule", decay_kind_name(o.schedule)},
                                               {"clip_norm", o.clip_norm}}},
                     {"training", toml::table{{"steps", t.steps},
                                              {"batch_size", t.batch_size},
                                              {"grad_accum", t.grad_accum},
                                              {"seq_len", t.seq_len},
                                              {"seed", t.seed},
                                              {"eval_interval", t.eval_interval},
                                              {"eval_batches", t.eval_batches},
                                              {"log_interval", t.log_interval},
                                              {"freeze", freeze},
                                              {"unfreeze_step", t.unfreeze_step},
                                              {"max_nonfinite_steps", t.max_nonfinite_steps},
                                              {"row_shards", t.row_shards}}},
                     {"data", toml::table{{"source", c.data.source},
                                          {"objective", c.data.objective},
                                          {"dir", c.data.dir},
                                          {"train", c.data.train},
                                          {"valid", c.data.valid},
                                          {"valid_fraction", c.data.valid_fraction},
                                          {"split_seed", c.data.split_seed}}},
                     {"run", toml::table{{"dir", c.run.dir}}},
                     {"distributed", toml::table{{"tp", c.distributed.tp},
                                                 {"dp", c.distributed.dp},
                                                 {"timeout", c.distributed.timeout}}},
                     {"checkpoint", toml::table{{"interval", c.checkpoint.interval},
                                                {"keep_last", c.checkpoint.keep_last}}}};
}

std::string stage_config_to_string(const StageConfig& c) {
  std::ostringstream out;
  out << stage_config_to_toml(c) << "\n";
  return out.str();
}

}  // namespace graft
