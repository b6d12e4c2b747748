#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "data/hdf5_file.h"
#include "data/token_store.h"
#include "tests/data/tiny_corpus.h"

#include "tests/support/files_and_errors.h"
namespace graft {
namespace {

using testing::input_error_of;

namespace fs = std::filesystem;

std::string scratch(const std::string& name) {
  return (testing::scratch_dir() / name).string();
}

TEST(Hdf5File, RoundTripsDatasetsAndAttributesAtomically) {
  const std::string path = scratch("roundtrip.h5");
  {
    hdf5::File f = hdf5::File::create(path);
    f.write("a/b/ints", std::vector<int32_t>{1, -2, 3});
    const std::vector<float> matrix{1, 2, 3, 4, 5, 6};
    f.write("matrix", matrix.data(), {2, 3});
    f.write("longs", std::vector<int64_t>{int64_t(1) << 40});
    f.write("doubles", std::vector<double>{0.25});
    f.write("bytes", std::vector<uint8_t>{0, 255, 7});
    f.write("empty", std::vector<int32_t>{});
    f.set_attribute("/", "name", std::string("graft"));
    f.set_attribute("/", "empty_text", std::string());
    f.set_attribute("a/b/ints", "count", int64_t{3});
    f.set_attribute("matrix", "scale", 0.5);
    EXPECT_FALSE(fs::exists(path)) << "nothing under the real name before commit";
    f.commit();
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  const hdf5::File f = hdf5::File::open(path);
  EXPECT_EQ(f.read<int32_t>("a/b/ints"), (std::vector<int32_t>{1, -2, 3}));
  hdf5::Dims dims;
  EXPECT_EQ(f.read<float>("matrix", &dims), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(dims, (hdf5::Dims{2, 3}));
  EXPECT_EQ(f.read<int64_t>("longs")[0], int64_t(1) << 40);
  EXPECT_EQ(f.read<double>("doubles")[0], 0.25);
  EXPECT_EQ(f.read<uint8_t>("bytes"), (std::vector<uint8_t>{0, 255, 7}));
  EXPECT_TRUE(f.read<int32_t>("empty").empty());
  EXPECT_EQ(f.read_range<int32_t>("a/b/ints", 1, 2), (std::vector<int32_t>{-2, 3}));
  EXPECT_EQ(f.string_attribute("/", "name"), "graft");
  EXPECT_EQ(f.string_attribute("/", "empty_text"), "");
  EXPECT_EQ(f.int_attribute("a/b/ints", "count"), 3);
  EXPECT_EQ(f.double_attribute("matrix", "scale"), 0.5);
  EXPECT_FALSE(f.has("a/missing/x"));
  const std::string message = input_error_of([&] { f.read<int32_t>("a/missing/x"); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  // Asking for floats from an integer dataset is the file's fault, not a crash.
  EXPECT_THROW(f.read<float>("a/b/ints"), InputError);
}

TEST(Hdf5File, UncommittedFileLeavesNothing) {
  const std::string path = scratch("abandoned.h5");
  {
    hdf5::File f = hdf5::File::create(path);
    f.write("x", std::vector<int32_t>{1});
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

class StoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    docs_ = new std::vector<std::string>(testing::tiny_documents(300));
    PrepareOptions o;
    o.inputs = {testing::write_corpus("train.txt", *docs_)};
    o.tokenizer = testing::tiny_tokenizer_path();
    o.output = scratch("train.h5");
    prepare_token_store(o);
    path_ = new std::string(o.output);
  }
  static void TearDownTestSuite() {
    delete docs_;
    delete path_;
  }
  static std::vector<std::string>* docs_;
  static std::string* path_;
};
std::vector<std::string>* StoreTest::docs_ = nullptr;
std::string* StoreTest::path_ = nullptr;

TEST_F(StoreTest, DocumentsDecodeBackToTheirText) {
  const TokenStore store = TokenStore::load(*path_);
  const Tokenizer tok = store.tokenizer();
  EXPECT_EQ(store.kind, DocumentKind::text);
  EXPECT_EQ(store.split, "train");
  EXPECT_EQ(store.vocab_size, 600);
  ASSERT_EQ(store.num_documents(), static_cast<int64_t>(docs_->size()));
  const std::vector<std::string> expected = read_text_documents(scratch("train.txt"));
  for (int64_t i = 0; i < store.num_documents(); ++i) {
    const auto doc = store.document(i);
    ASSERT_EQ(doc.back(), kEosId);
    EXPECT_EQ(tok.decode({doc.begin(), doc.end()}), expected[i]);
  }
  EXPECT_NE(store.source_manifest.find("train.txt"), std::string::npos);
}

TEST_F(StoreTest, IsReadableByH5dump) {
  if (std::system("command -v h5dump > /dev/null 2>&1") != 0) GTEST_SKIP() << "no h5dump";
  const std::string out = scratch("dump.txt");
  ASSERT_EQ(std::system(("h5dump -A " + *path_ + " > " + out).c_str()), 0);
  std::ifstream in(out);
  const std::string dump((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(dump.find("graft-token-store"), std::string::npos);
  EXPECT_NE(dump.find("DATASET \"tokens\""), std::string::npos);
  EXPECT_NE(dump.find("DATASET \"doc_offsets\""), std::string::npos);
}

TEST_F(StoreTest, TruncatedStoreNamesTheFile) {
  const std::string truncated = scratch("truncated.h5");
  fs::copy_file(*path_, truncated, fs::copy_options::overwrite_existing);
  fs::resize_file(truncated, fs::file_size(truncated) / 2);
  const std::string message = input_error_of([&] { TokenStore::load(truncated); });
  EXPECT_NE(message.find(truncated), std::string::npos) << message;
}

TEST(TokenStoreErrors, ForeignFilesNameTheFile) {
  const std::string text = scratch("foreign.h5");
  std::ofstream(text) << "plain text, not HDF5\n";
  std::string message = input_error_of([&] { TokenStore::load(text); });
  EXPECT_NE(message.find(text), std::string::npos) << message;
  EXPECT_NE(message.find("not an HDF5 file"), std::string::npos) << message;

  const std::string other = scratch("other.h5");
  {
    hdf5::File f = hdf5::File::create(other);
    f.write("weights", std::vector<float>{1, 2});
    f.commit();
  }
  message = input_error_of([&] { TokenStore::load(other); });
  EXPECT_NE(message.find(other), std::string::npos) << message;
  EXPECT_NE(message.find("not a graft token store"), std::string::npos) << message;

  message = input_error_of([&] { TokenStore::load(scratch("missing.h5")); });
  EXPECT_NE(message.find("missing.h5"), std::string::npos) << message;
}

TEST(TokenStoreErrors, MissingTokenizerOrInputNamesTheFile) {
  PrepareOptions o;
  o.inputs = {testing::write_corpus("t.txt", {"one document"})};
  o.tokenizer = scratch("no-such.model");
  o.output = scratch("never.h5");
  std::string message = input_error_of([&] { prepare_token_store(o); });
  EXPECT_NE(message.find("no-such.model"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(o.output));

  o.tokenizer = testing::tiny_tokenizer_path();
  o.inputs = {scratch("no-such-input.txt")};
  message = input_error_of([&] { prepare_token_store(o); });
  EXPECT_NE(message.find("no-such-input.txt"), std::string::npos) << message;
}

TEST(TokenStoreKinds, ClassificationAndSeq2seq) {
  const std::string cls = scratch("cls.tsv"), s2s = scratch("s2s.tsv");
  std::ofstream(cls) << "positive\tA fine film.\nnegative\tDull.\npositive\tLoved it.\n";
  std::ofstream(s2s) << "Hello world.\tHallo Welt.\nGood night.\tGute Nacht.\n";
  PrepareOptions o;
  o.tokenizer = testing::tiny_tokenizer_path();
  o.inputs = {cls};
  o.output = scratch("cls.h5");
  o.kind = DocumentKind::classification;
  o.labels = {"negative", "positive"};
  prepare_token_store(o);
  const TokenStore c = TokenStore::load(o.output);
  EXPECT_EQ(c.labels, (std::vector<int32_t>{1, 0, 1}));
  EXPECT_EQ(c.label_names, (std::vector<std::string>{"negative", "positive"}));
  EXPECT_EQ(c.split, "cls");

  o.inputs = {s2s};
  o.output = scratch("s2s.h5");
  o.kind = DocumentKind::seq2seq;
  prepare_token_store(o);
  const TokenStore s = TokenStore::load(o.output);
  const Tokenizer tok = s.tokenizer();
  ASSERT_EQ(s.num_documents(), 2);
  const auto target = s.target(1);
  EXPECT_EQ(tok.decode({target.begin(), target.end()}), "Gute Nacht.");
  const auto source = s.document(0);
  EXPECT_EQ(tok.decode({source.begin(), source.end()}), "Hello world.");
}

}  // namespace
}  // namespace graft
