// Stage configs: every key read, bad input named by key and file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "train/stage_config.h"

namespace graft {
namespace {

const char* const kGood = R"(
[model]
kind = "decoder"
vocab_size = 259
d_model = 32
num_heads = 2
decoder_layers = 2
max_positions = 64

[optimizer]
lr = 2e-3
betas = [0.9, 0.99]
schedule = "linear"
warmup_steps = 5

[training]
steps = 50
batch_size = 4
seq_len = 32
freeze = ["embed.*"]
unfreeze_step = 10

[data]
source = "fortunes"
objective = "clm"

[run]
dir = "runs/test"
)";

// The InputError message of parsing text with overrides ("" when none).
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    stage_config_from_toml_text(text, "stage.toml", overrides);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

void expect_mentions(const std::string& message, std::initializer_list<std::string> parts) {
  EXPECT_FALSE(message.empty()) << "no InputError";
  for (const std::string& part : parts) {
    EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' missing in: " << message;
  }
}

TEST(StageConfig, ReadsEveryGivenKey) {
  const StageConfig c = stage_config_from_toml_text(kGood, "stage.toml");
  EXPECT_EQ(c.model.d_model, 32);
  EXPECT_EQ(c.model.vocab_size, 259);
  EXPECT_DOUBLE_EQ(c.optimizer.lr, 2e-3);
  EXPECT_DOUBLE_EQ(c.optimizer.beta2, 0.99);
  EXPECT_EQ(c.optimizer.schedule, DecayKind::linear);
  EXPECT_EQ(c.optimizer.warmup_steps, 5);
  EXPECT_EQ(c.training.steps, 50);
  EXPECT_EQ(c.training.seq_len, 32);
  EXPECT_EQ(c.training.freeze, std::vector<std::string>{"embed.*"});
  EXPECT_EQ(c.training.unfreeze_step, 10);
  EXPECT_EQ(c.run.dir, "runs/test");
}

TEST(StageConfig, ResolvedConfigReadsBackEqual) {
  const StageConfig c = stage_config_from_toml_text(kGood, "stage.toml");
  const std::string text = stage_config_to_string(c);
  const StageConfig back = stage_config_from_toml_text(text, "config.toml");
  EXPECT_EQ(stage_config_to_string(back), text);
  EXPECT_NE(text.find("max_nonfinite_steps = 5"), std::string::npos) << text;
}

TEST(StageConfig, UnknownKeyNamesKeyAndFile) {
  std::string text = kGood;
  text.replace(text.find("steps = 50"), 10, "stepz = 50");
  expect_mentions(error_of(text), {"stage.toml:", "training.stepz", "unknown key"});
}

TEST(StageConfig, UnknownSectionAndModelKeyNamed) {
  expect_mentions(error_of(std::string(kGood) + "\n[trainig]\nsteps = 3\n"),
                  {"stage.toml", "trainig"});
  std::string text = kGood;
  text.replace(text.find("d_model = 32"), 12, "d_modle = 32");
  expect_mentions(error_of(text), {"stage.toml", "model.d_modle"});
}

TEST(StageConfig, WrongTypeNamesKeyFileAndLine) {
  std::string text = kGood;
  text.replace(text.find("steps = 50"), 10, "steps = \"50\"");
  expect_mentions(error_of(text), {"stage.toml:17", "training.steps", "expected an integer"});
  text = kGood;
  text.replace(text.find("betas = [0.9, 0.99]"), 19, "betas = 0.9");
  expect_mentions(error_of(text), {"stage.toml", "optimizer.betas", "two numbers"});
}

TEST(StageConfig, InvalidValuesAreNamed) {
  expect_mentions(error_of(kGood, {"optimizer.schedule=cosine_restarts"}),
                  {"optimizer.schedule", "cosine_restarts"});
  expect_mentions(error_of(kGood, {"training.seq_len=128"}),
                  {"training.seq_len", "model.max_positions"});
  expect_mentions(error_of(kGood, {"data.objective=mlm"}), {"data.objective", "mlm"});
  expect_mentions(error_of(kGood, {"training.batch_size=0"}), {"training.batch_size", ">= 1"});
  expect_mentions(error_of(kGood, {"training.row_shards=0"}), {"training.row_shards", ">= 1"});
}

// TOML spells inf and nan; each used to be accepted and train to nothing
// (eps = inf: zero updates) or wreck the weights (weight_decay = inf).
TEST(StageConfig, OptimizerNumbersMustBeFinite) {
  for (const char* value : {"inf", "nan", "-inf"}) {
    for (const char* key : {"lr", "min_lr", "eps", "weight_decay", "clip_norm"}) {
      const std::string set = std::string("optimizer.") + key + "=" + value;
      expect_mentions(error_of(kGood, {set}),
                      {"stage.toml", "--set " + set, std::string("optimizer.") + key, "finite"});
    }
    expect_mentions(error_of(kGood, {std::string("optimizer.betas=[0.9, ") + value + "]"}),
                    {"optimizer.betas", "[0, 1)"});
  }
  std::string text = kGood;
  text.replace(text.find("warmup_steps = 5"), 16, "warmup_steps = 5\neps = inf");
  expect_mentions(error_of(text),
                  {"stage.toml:", "optimizer.eps", "must be a finite number > 0, got inf"});
  expect_mentions(error_of(kGood, {"optimizer.weight_decay=-0.1"}),
                  {"optimizer.weight_decay", ">= 0", "-0.1"});
  expect_mentions(error_of(kGood, {"optimizer.eps=0"}), {"optimizer.eps", "> 0"});
  const StageConfig ok = stage_config_from_toml_text(
      kGood, "stage.toml", {"optimizer.weight_decay=0", "optimizer.clip_norm=0"});
  EXPECT_EQ(ok.optimizer.weight_decay, 0);
  EXPECT_EQ(ok.optimizer.clip_norm, 0);
}

// distributed.timeout: 0 and inf switch the collective watchdog off (and inf
// reads back from config.toml); a negative or NaN timeout is refused instead
// of silently doing the same.
TEST(StageConfig, TimeoutIsZeroOrMoreAndMayBeInfinite) {
  EXPECT_EQ(stage_config_from_toml_text(kGood, "stage.toml").distributed.timeout, 300);
  EXPECT_EQ(stage_config_from_toml_text(kGood, "stage.toml", {"distributed.timeout=0"})
                .distributed.timeout,
            0);
  const StageConfig forever =
      stage_config_from_toml_text(kGood, "stage.toml", {"distributed.timeout=inf"});
  EXPECT_TRUE(std::isinf(forever.distributed.timeout));
  EXPECT_TRUE(std::isinf(stage_config_from_toml_text(stage_config_to_string(forever), "config.toml")
                             .distributed.timeout));
  for (const char* value : {"-1", "nan", "-inf"}) {
    const std::string set = std::string("distributed.timeout=") + value;
    expect_mentions(error_of(kGood, {set}),
                    {"stage.toml", "--set " + set, "distributed.timeout", ">= 0 seconds"});
  }
}

TEST(StageConfig, RowShardsDefaultToOneAndAreWrittenBack) {
  EXPECT_EQ(stage_config_from_toml_text(kGood, "stage.toml").training.row_shards, 1);
  const StageConfig c = stage_config_from_toml_text(kGood, "stage.toml", {"training.row_shards=2"});
  EXPECT_EQ(c.training.row_shards, 2);
  EXPECT_NE(stage_config_to_string(c).find("row_shards = 2"), std::string::npos);
}

TEST(StageConfig, DeviceAndMixedPrecisionAreCheckedTogether) {
  const StageConfig gpu = stage_config_from_toml_text(
      kGood, "stage.toml", {"model.device=\"cuda\"", "model.dtype=\"bf16\""});
  EXPECT_EQ(gpu.model_device, Device::cuda);
  EXPECT_EQ(gpu.model_dtype, DType::bf16);
  const StageConfig cpu = stage_config_from_toml_text(kGood, "stage.toml", {});
  EXPECT_EQ(cpu.model_device, Device::cpu);
  EXPECT_EQ(cpu.model_dtype, DType::f32);
  expect_mentions(error_of(kGood, {"model.device=\"tpu\""}), {"model.device", "tpu", "cuda"});
  expect_mentions(error_of(kGood, {"model.dtype=\"bf16\""}),
                  {"model.dtype", "bf16", "model.device = \"cuda\""});
  expect_mentions(error_of(kGood, {"model.device=\"cuda\"", "model.dtype=\"f64\""}),
                  {"model.dtype", "f64", "CPU only"});
}

TEST(StageConfig, SetOverridesWithTheSameChecks) {
  const StageConfig c = stage_config_from_toml_text(
      kGood, "stage.toml",
      {"training.steps=100", "optimizer.schedule=cosine", "run.dir=/tmp/x", "model.d_model=64",
       "training.freeze=[\"decoder.layers.0.*\", \"embed.*\"]"});
  EXPECT_EQ(c.training.steps, 100);
  EXPECT_EQ(c.optimizer.schedule, DecayKind::cosine);
  EXPECT_EQ(c.run.dir, "/tmp/x");
  EXPECT_EQ(c.model.d_model, 64);
  EXPECT_EQ(c.training.freeze.size(), 2u);

  expect_mentions(
      error_of(kGood, {"training.steps=many"}),
      {"stage.toml", "--set training.steps=many", "training.steps", "expected an integer"});
  expect_mentions(error_of(kGood, {"training.stepz=100"}),
                  {"stage.toml", "--set training.stepz=100", "unknown key training.stepz"});
  expect_mentions(error_of(kGood, {"trainer.steps=100"}),
                  {"stage.toml", "unknown section 'trainer'"});
  expect_mentions(error_of(kGood, {"steps=100"}), {"stage.toml", "section.key"});
  expect_mentions(error_of(kGood, {"training.steps"}), {"stage.toml", "section.key=value"});
  expect_mentions(error_of(kGood, {"model.d_model=\"wide\""}),
                  {"stage.toml", "model.d_model", "--set model.d_model"});
}

TEST(StageConfig, FilesAreReadAndSyntaxErrorsCarryTheLine) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "graft_stage_config_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "stage.toml").string();
  std::ofstream(path) << kGood;
  EXPECT_EQ(load_stage_config(path, {"training.steps=7"}).training.steps, 7);
  std::ofstream(path) << "[model]\nkind = \"decoder\"\nvocab_size = = 3\n";
  expect_mentions(
      [&] {
        try {
          load_stage_config(path);
        } catch (const InputError& e) {
          return std::string(e.what());
        }
        return std::string();
      }(),
      {"stage.toml:3"});
  EXPECT_THROW(load_stage_config((dir / "missing.toml").string()), InputError);
  std::filesystem::remove_all(dir);
}

TEST(StageConfig, ModelSectionIsRequiredAndByteVocabularyChecked) {
  expect_mentions(error_of("[training]\nsteps = 3\n"), {"stage.toml", "[model]"});
  expect_mentions(error_of(kGood, {"model.vocab_size=4096"}),
                  {"stage.toml", "model.vocab_size", "259"});
}

}  // namespace
}  // namespace graft
