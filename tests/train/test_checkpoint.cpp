// HDF5 checkpoints: bit-exact round trips, refusal of damaged or foreign
// files, the run folder's keep-last-K and fallback, failed saves that lose
// nothing, and restoring by name into a model and AdamW.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "data/hdf5_file.h"
#include "data/loader.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "train/checkpoint_manager.h"
#include "train/checksum.h"
#include "train/optimizer.h"

namespace graft {
namespace {

namespace fs = std::filesystem;

ModelConfig tiny_decoder(int64_t d_ff = 32) {
  ModelConfig c;
  c.kind = ModelKind::decoder;
  c.vocab_size = 23;
  c.d_model = 16;
  c.num_heads = 2;
  c.d_ff = d_ff;
  c.decoder_layers = 2;
  c.max_positions = 16;
  return c;
}

// Deterministic, distinct values so every tensor's bytes are unique in a file.
void fill_pseudo_random(const Tensor& t, uint64_t seed, double scale = 1.0) {
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const double u = static_cast<double>(s >> 11) / 9007199254740992.0;  // [0, 1)
    if (t.dtype() == DType::f32) t.data<float>()[i] = static_cast<float>(scale * (u - 0.5));
    if (t.dtype() == DType::f64) t.data<double>()[i] = scale * (u - 0.5);
  }
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.defined() && b.defined() && a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.bytes()) == 0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Flips one byte in the middle of t's stored values (found by content, so
// the test needs no HDF5 layout knowledge); t must be f32 or f64 on disk.
void flip_byte_inside(const std::string& path, const Tensor& t) {
  std::string bytes = read_file(path);
  const std::string needle(static_cast<const char*>(t.raw_data()), std::min<size_t>(t.bytes(), 64));
  const size_t at = bytes.find(needle);
  ASSERT_NE(at, std::string::npos) << "tensor bytes not found in " << path;
  ASSERT_EQ(bytes.find(needle, at + 1), std::string::npos) << "tensor bytes not unique";
  bytes[at + needle.size() / 2] ^= 0x10;
  write_file(path, bytes);
}

// A decoder, AdamW with non-trivial moments and steps, and every other field.
struct Fixture {
  std::unique_ptr<Model> model = make_model(tiny_decoder(), 7);
  AdamW optimizer{model->parameters(), AdamWOptions{}};
  CheckpointContents contents;

  Fixture() {
    uint64_t seed = 100;
    for (auto& [name, s] : optimizer.state()) {
      fill_pseudo_random(s.m, ++seed, 0.1);
      fill_pseudo_random(s.v, ++seed, 0.01);
      for (int64_t i = 0; i < s.v.numel(); ++i)
        s.v.data<float>()[i] = std::abs(s.v.data<float>()[i]);
      s.step = static_cast<int64_t>(seed % 17);
    }
    contents = capture(*model, &optimizer);
    contents.step = 1234;
    contents.tokens = 9876543210;
    contents.flops.add(Phase::forward, FlopsKind::matmul, 1.5e15);
    contents.flops.add(Phase::forward, FlopsKind::attention, 3.25e12);
    contents.flops.add(Phase::forward, FlopsKind::other, 7.0);
    contents.flops.add(Phase::backward, FlopsKind::matmul, 3.0e15 + 1);
    contents.flops.add(Phase::backward, FlopsKind::attention, 6.5e12);
    contents.flops.add(Phase::backward, FlopsKind::other, 0.125);
    contents.carried_flops.add(Phase::forward, FlopsKind::matmul, 42.0);
    contents.carried_flops.add(Phase::backward, FlopsKind::other, 1e-3);
    LoaderCursor cursor;
    cursor.step = 1234;
    cursor.seed = 0xFEDCBA9876543210ull;
    cursor.num_samples = 5000;
    cursor.global_batch = 32;
    contents.loader_state = cursor.to_vector();
    contents.seed = 0xFFFFFFFFFFFFFFF1ull;
    contents.config = "[model]\nkind = \"decoder\"  # größe\n\n[training]\nsteps = 3\n";
    contents.tokenizer = std::string("sp\0model\xff\x01bytes", 15);
  }
};

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("graft-ckpt-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }
  std::vector<std::string> temp_files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_))
      if (e.path().extension() == ".tmp") out.push_back(e.path().string());
    return out;
  }
  std::string dir_;
};

// Runs f, which must throw E; returns the message.
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "no exception thrown";
  return "";
}

TEST(Checksum, MatchesTheStandardCrc32) {
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
  EXPECT_EQ(crc32("", 0), 0u);
  const std::string text = "The quick brown fox jumps over the lazy dog";
  EXPECT_EQ(crc32(text.data(), text.size()), 0x414FA339u);
  EXPECT_EQ(crc32(text.data() + 10, text.size() - 10, crc32(text.data(), 10)),
            crc32(text.data(), text.size()));
}

// The bit-at-a-time definition of CRC-32 (reflected, polynomial 0xEDB88320),
// against which the library's values are checked on random bytes of every
// length up to 70 and a 1 MiB buffer: the checkpoint format stores these
// values, so they must never change.
uint32_t bitwise_crc32(const unsigned char* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k)
      c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return ~c;
}

TEST(Checksum, EqualsTheBitwiseDefinitionOnRandomBytes) {
  std::mt19937_64 rng(5);
  std::vector<unsigned char> bytes(1 << 20);
  for (unsigned char& b : bytes)
    b = static_cast<unsigned char>(rng());
  for (size_t n = 0; n <= 70; ++n)
    ASSERT_EQ(crc32(bytes.data() + 3, n), bitwise_crc32(bytes.data() + 3, n)) << n;
  EXPECT_EQ(crc32(bytes.data(), bytes.size()), bitwise_crc32(bytes.data(), bytes.size()));
}

TEST_F(CheckpointTest, RoundTripIsBitForBit) {
  Fixture f;
  // Other dtypes beside the model's f32: f64, bf16 (stored widened) and i32.
  Tensor f64 = Tensor::zeros({3, 2}, DType::f64);
  fill_pseudo_random(f64, 1);
  Tensor b16 = Tensor::from_vector(
      std::vector<bf16>{float_to_bf16(1.5f), float_to_bf16(-3.0e-5f), float_to_bf16(7.0e30f)}, {3});
  Tensor i32 = Tensor::from_vector(std::vector<int32_t>{-1, 0, 2147483647}, {1, 3});
  f.contents.parameters.push_back({"extra.f64", f64});
  f.contents.parameters.push_back({"extra.bf16", b16});
  f.contents.parameters.push_back({"extra.i32", i32});

  const std::string file = path("round.h5");
  save_checkpoint(file, f.contents);
  EXPECT_TRUE(temp_files().empty());
  const CheckpointContents back = load_checkpoint(file);

  EXPECT_EQ(back.source, file);
  ASSERT_EQ(back.parameters.size(), f.contents.parameters.size());
  for (size_t i = 0; i < back.parameters.size(); ++i) {
    EXPECT_EQ(back.parameters[i].name, f.contents.parameters[i].name) << "order is kept";
    EXPECT_TRUE(same_bytes(back.parameters[i].tensor, f.contents.parameters[i].tensor))
        << back.parameters[i].name;
  }
  ASSERT_EQ(back.optimizer.size(), f.optimizer.state().size());
  for (const auto& [name, s] : f.optimizer.state()) {
    const ParameterState& b = back.optimizer.at(name);
    EXPECT_TRUE(same_bytes(b.m, s.m)) << name;
    EXPECT_TRUE(same_bytes(b.v, s.v)) << name;
    EXPECT_EQ(b.step, s.step) << name;
  }
  EXPECT_EQ(back.step, 1234);
  EXPECT_EQ(back.tokens, 9876543210);
  EXPECT_EQ(back.seed, 0xFFFFFFFFFFFFFFF1ull);
  EXPECT_EQ(back.flops.forward().matmul, 1.5e15);
  EXPECT_EQ(back.flops.forward().attention, 3.25e12);
  EXPECT_EQ(back.flops.forward().other, 7.0);
  EXPECT_EQ(back.flops.backward().matmul, 3.0e15 + 1);
  EXPECT_EQ(back.flops.backward().attention, 6.5e12);
  EXPECT_EQ(back.flops.backward().other, 0.125);
  EXPECT_EQ(back.carried_flops.forward().matmul, 42.0);
  EXPECT_EQ(back.carried_flops.backward().other, 1e-3);
  EXPECT_EQ(back.total_flops().forward().matmul, 1.5e15 + 42.0);
  EXPECT_EQ(back.loader_state, f.contents.loader_state);
  const LoaderCursor cursor = LoaderCursor::from_vector(back.loader_state);
  EXPECT_EQ(cursor.seed, 0xFEDCBA9876543210ull);
  EXPECT_EQ(cursor.step, 1234);
  EXPECT_EQ(back.config, f.contents.config);
  EXPECT_EQ(back.tokenizer, f.contents.tokenizer);
  EXPECT_EQ(back.tokenizer.size(), 15u);
}

TEST_F(CheckpointTest, WeightsOnlyWithEmptyFieldsRoundTrips) {
  Fixture f;
  CheckpointContents c = capture(*f.model);
  const std::string file = path("weights.h5");
  save_checkpoint(file, c);
  const CheckpointContents back = load_checkpoint(file);
  EXPECT_TRUE(back.optimizer.empty());
  EXPECT_TRUE(back.loader_state.empty());
  EXPECT_TRUE(back.tokenizer.empty());
  EXPECT_TRUE(back.config.empty());
  EXPECT_EQ(back.parameters.size(), f.model->parameters().size());
  AdamW fresh(f.model->parameters(), AdamWOptions{});
  const std::string msg = message_of<InputError>([&] { restore(back, *f.model, &fresh); });
  EXPECT_NE(msg.find("no optimizer state"), std::string::npos) << msg;
  EXPECT_NE(msg.find(file), std::string::npos) << msg;
}

TEST_F(CheckpointTest, TruncatedFileIsRefusedNamingIt) {
  Fixture f;
  const std::string file = path("whole.h5");
  save_checkpoint(file, f.contents);
  const std::string bytes = read_file(file);
  for (size_t keep : {bytes.size() / 2, bytes.size() - 100, size_t{700}}) {
    const std::string cut = path("cut.h5");
    write_file(cut, bytes.substr(0, keep));
    const std::string msg = message_of<InputError>([&] { load_checkpoint(cut); });
    EXPECT_NE(msg.find(cut), std::string::npos) << "kept " << keep << ": " << msg;
  }
}

TEST_F(CheckpointTest, FlippedByteInADatasetIsRefusedNamingFileAndDataset) {
  Fixture f;
  const std::string file = path("flip.h5");
  save_checkpoint(file, f.contents);
  const std::string name = "decoder.layers.1.mlp.up.weight";
  ASSERT_TRUE(f.model->parameters().contains(name));
  flip_byte_inside(file, f.model->parameters().get(name));

  const std::string msg = message_of<InputError>([&] { load_checkpoint(file); });
  EXPECT_NE(msg.find(file), std::string::npos) << msg;
  EXPECT_NE(msg.find("/params/" + name), std::string::npos) << msg;
  EXPECT_NE(msg.find("CRC-32"), std::string::npos) << msg;

  const CheckpointReport report = verify_checkpoint(file);
  ASSERT_EQ(report.failures(), 1);
  for (const DatasetCheck& d : report.datasets) {
    EXPECT_EQ(d.ok(), d.dataset != "/params/" + name) << d.dataset;
  }
  // A flipped moment is caught too, and named.
  save_checkpoint(file, f.contents);
  const std::string moment = "embed.tokens.weight";
  flip_byte_inside(file, f.optimizer.state().at(moment).v);
  const std::string msg2 = message_of<InputError>([&] { load_checkpoint(file); });
  EXPECT_NE(msg2.find("/optimizer/v/" + moment), std::string::npos) << msg2;
}

TEST_F(CheckpointTest, ForeignAndIncompleteFilesAreRefused) {
  const std::string foreign = path("foreign.h5");
  {
    hdf5::File h = hdf5::File::create(foreign);
    h.write("data", std::vector<float>{1, 2, 3});
    h.commit();
  }
  std::string msg = message_of<InputError>([&] { load_checkpoint(foreign); });
  EXPECT_NE(msg.find(foreign), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a graft checkpoint"), std::string::npos) << msg;

  const std::string text = path("text.h5");
  write_file(text, "[model]\nkind = \"decoder\"\n");
  msg = message_of<InputError>([&] { load_checkpoint(text); });
  EXPECT_NE(msg.find(text), std::string::npos) << msg;

  const std::string incomplete = path("incomplete.h5");
  {
    hdf5::File h = hdf5::File::create(incomplete);
    h.set_attribute("/", "format", std::string(kCheckpointFormat));
    h.set_attribute("/", "format_version", kCheckpointVersion);
    h.commit();
  }
  msg = message_of<InputError>([&] { load_checkpoint(incomplete); });
  EXPECT_NE(msg.find(incomplete), std::string::npos) << msg;
  EXPECT_NE(msg.find("/state/counters"), std::string::npos) << msg;

  const std::string newer = path("newer.h5");
  {
    hdf5::File h = hdf5::File::create(newer);
    h.set_attribute("/", "format", std::string(kCheckpointFormat));
    h.set_attribute("/", "format_version", int64_t{99});
    h.commit();
  }
  msg = message_of<InputError>([&] { load_checkpoint(newer); });
  EXPECT_NE(msg.find("version 99"), std::string::npos) << msg;

  msg = message_of<InputError>([&] { load_checkpoint(path("absent.h5")); });
  EXPECT_NE(msg.find("absent.h5"), std::string::npos) << msg;
}

TEST_F(CheckpointTest, ManagerKeepsTheLastK) {
  Fixture f;
  CheckpointManager manager(dir_, 2);
  for (int64_t step : {10, 20, 30, 1000000}) {
    f.contents.step = step;
    EXPECT_EQ(manager.save(f.contents), manager.path_for(step));
  }
  EXPECT_EQ(manager.path_for(10), path("ckpt-000010.h5"));
  EXPECT_EQ(manager.list(),
            (std::vector<std::string>{path("ckpt-000030.h5"), path("ckpt-1000000.h5")}));
  EXPECT_FALSE(fs::exists(path("ckpt-000010.h5")));
  const auto latest = manager.load_latest();
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->step, 1000000);

  CheckpointManager keep_all(dir_, 0);
  f.contents.step = 5;
  keep_all.save(f.contents);
  EXPECT_EQ(keep_all.list().size(), 3u);
  EXPECT_TRUE(CheckpointManager(path("none")).list().empty());
  EXPECT_FALSE(CheckpointManager(path("none")).load_latest().has_value());
}

TEST_F(CheckpointTest, ManagerFallsBackToThePreviousValidCheckpoint) {
  Fixture f;
  std::vector<std::string> warnings;
  CheckpointManager manager(dir_, 3, [&](const std::string& w) { warnings.push_back(w); });
  for (int64_t step : {1, 2, 3}) {
    f.contents.step = step;
    manager.save(f.contents);
  }
  flip_byte_inside(manager.path_for(3), f.model->parameters().get("embed.tokens.weight"));
  auto latest = manager.load_latest();
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->step, 2);
  EXPECT_EQ(latest->source, manager.path_for(2));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(manager.path_for(3)), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("falling back to " + manager.path_for(2)), std::string::npos)
      << warnings[0];

  // A truncated newest one is skipped the same way.
  const std::string bytes = read_file(manager.path_for(2));
  write_file(manager.path_for(2), bytes.substr(0, bytes.size() / 3));
  warnings.clear();
  latest = manager.load_latest();
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->step, 1);
  EXPECT_EQ(warnings.size(), 2u);

  // None valid: an error naming them, not a silent fresh start.
  write_file(manager.path_for(1), "garbage");
  const std::string msg = message_of<InputError>([&] { manager.load_latest(); });
  EXPECT_NE(msg.find("no valid checkpoint"), std::string::npos) << msg;
  EXPECT_NE(msg.find(manager.path_for(1)), std::string::npos) << msg;
}

TEST_F(CheckpointTest, NonFiniteStateIsNeverSavedAndLosesNothing) {
  Fixture f;
  CheckpointManager manager(dir_, 2);
  for (int64_t step : {1, 2}) {
    f.contents.step = step;
    manager.save(f.contents);
  }
  const std::string before1 = read_file(manager.path_for(1));
  const std::string before2 = read_file(manager.path_for(2));

  const std::string name = "decoder.layers.0.attn.q.weight";
  const Tensor param = f.model->parameters().get(name);
  const float saved = param.data<float>()[5];
  param.data<float>()[5] = std::numeric_limits<float>::quiet_NaN();
  f.contents.step = 3;
  std::string msg = message_of<Error>([&] { manager.save(f.contents); });
  EXPECT_NE(msg.find(name), std::string::npos) << msg;
  param.data<float>()[5] = saved;

  Tensor v = f.optimizer.state().at(name).v;
  v.data<float>()[0] = std::numeric_limits<float>::infinity();
  msg = message_of<Error>([&] { manager.save(f.contents); });
  EXPECT_NE(msg.find("second moment (v) of '" + name + "'"), std::string::npos) << msg;

  EXPECT_EQ(manager.list(), (std::vector<std::string>{manager.path_for(1), manager.path_for(2)}));
  EXPECT_EQ(read_file(manager.path_for(1)), before1);
  EXPECT_EQ(read_file(manager.path_for(2)), before2);
  EXPECT_FALSE(fs::exists(manager.path_for(3)));
  EXPECT_TRUE(temp_files().empty());
  EXPECT_EQ(manager.load_latest()->step, 2);
}

TEST_F(CheckpointTest, SaveFailingMidwayRemovesItsTempFile) {
  Fixture f;
  // The final rename fails (a folder is in the way) after every dataset has
  // been written: the temp file goes, the folder and its content stay.
  const std::string target = path("ckpt-000007.h5");
  fs::create_directories(target);
  write_file(target + "/keep.txt", "keep");
  EXPECT_THROW(save_checkpoint(target, f.contents), Error);
  EXPECT_TRUE(temp_files().empty());
  EXPECT_EQ(read_file(target + "/keep.txt"), "keep");
}

TEST_F(CheckpointTest, RestoreAppliesByNameAndChecksNamesAndShapes) {
  Fixture f;
  const std::string file = path("restore.h5");
  save_checkpoint(file, f.contents);
  const CheckpointContents back = load_checkpoint(file);

  auto model = make_model(tiny_decoder(), 99);  // other initial values
  AdamW optimizer(model->parameters(), AdamWOptions{});
  const std::string probe = "decoder.layers.1.attn.o.weight";
  ASSERT_FALSE(same_bytes(model->parameters().get(probe), f.model->parameters().get(probe)));
  restore(back, *model, &optimizer);
  for (const NamedParameter& p : f.model->parameters().entries()) {
    EXPECT_TRUE(same_bytes(model->parameters().get(p.name), p.tensor)) << p.name;
    EXPECT_TRUE(same_bytes(optimizer.state().at(p.name).m, f.optimizer.state().at(p.name).m));
    EXPECT_EQ(optimizer.state().at(p.name).step, f.optimizer.state().at(p.name).step);
  }

  // Into an f64 model: converted exactly.
  auto wide = make_model(tiny_decoder(), 3, DType::f64);
  restore(back, *wide);
  EXPECT_EQ(wide->parameters().get(probe).to_vector<double>()[3],
            static_cast<double>(f.model->parameters().get(probe).to_vector<float>()[3]));

  // A shape mismatch names the parameter and both shapes; nothing changes.
  auto other = make_model(tiny_decoder(48), 5);
  const std::vector<float> untouched = other->parameters().get(probe).to_vector<float>();
  std::string msg = message_of<InputError>([&] { restore(back, *other); });
  EXPECT_NE(msg.find(file), std::string::npos) << msg;
  EXPECT_NE(msg.find("'decoder.layers.0.mlp.down.weight'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[16, 32] in the checkpoint"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[16, 48] in the model"), std::string::npos) << msg;
  EXPECT_EQ(other->parameters().get(probe).to_vector<float>(), untouched);

  // A name the checkpoint lacks, and one the model lacks.
  CheckpointContents missing = back;
  missing.parameters.erase(missing.parameters.begin() + 2);
  const std::string dropped = back.parameters[2].name;
  msg = message_of<InputError>([&] { restore(missing, *model); });
  EXPECT_NE(msg.find("has no parameter for '" + dropped + "'"), std::string::npos) << msg;

  CheckpointContents extra = back;
  extra.parameters.push_back({"decoder.layers.9.attn.q.weight", Tensor::zeros({16, 16})});
  msg = message_of<InputError>([&] { restore(extra, *model); });
  EXPECT_NE(msg.find("'decoder.layers.9.attn.q.weight'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not have"), std::string::npos) << msg;

  CheckpointContents no_moment = back;
  no_moment.optimizer.erase(probe);
  msg = message_of<InputError>([&] { restore(no_moment, *model, &optimizer); });
  EXPECT_NE(msg.find("optimizer state for '" + probe + "'"), std::string::npos) << msg;
}

TEST_F(CheckpointTest, H5dumpReadsTheHeaders) {
  if (!fs::exists("/usr/bin/h5dump")) GTEST_SKIP() << "/usr/bin/h5dump not installed";
  Fixture f;
  const std::string file = path("dump.h5");
  save_checkpoint(file, f.contents);
  const std::string out = path("dump.txt");
  std::string command = "/usr/bin/h5dump -H '" + file + "' > '" + out + "' 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << read_file(out);
  std::string dump = read_file(out);
  EXPECT_NE(dump.find("\"embed.tokens.weight\""), std::string::npos) << dump;
  EXPECT_NE(dump.find("\"crc32\""), std::string::npos) << dump;
  // -A adds attribute values: the format name must read back as text.
  command = "/usr/bin/h5dump -A '" + file + "' > '" + out + "' 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << read_file(out);
  dump = read_file(out);
  EXPECT_NE(dump.find("\"graft-checkpoint\""), std::string::npos) << dump;
}

}  // namespace
}  // namespace graft
