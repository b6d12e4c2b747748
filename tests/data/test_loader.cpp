#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "data/loader.h"

namespace graft {
namespace {

// Token i of the stream is i, so a packed window is identified by its first
// token / length.
std::shared_ptr<const TokenStore> counting_store(int64_t tokens, int64_t doc_length) {
  auto store = std::make_shared<TokenStore>();
  store->vocab_size = tokens + 1;
  for (int64_t i = 0; i < tokens; ++i)
    store->tokens.push_back(static_cast<int32_t>(i));
  for (int64_t o = 0; o < tokens; o += doc_length)
    store->doc_offsets.push_back(o);
  store->doc_offsets.push_back(tokens);
  return store;
}

std::vector<int64_t> window_ids(const Tensor& batch) {
  std::vector<int64_t> ids;
  const int32_t* p = batch.data<int32_t>();
  for (int64_t b = 0; b < batch.dim(0); ++b) {
    const int32_t first = p[b * batch.dim(1)];
    for (int64_t t = 0; t < batch.dim(1); ++t)
      EXPECT_EQ(p[b * batch.dim(1) + t], first + t);
    ids.push_back(first / batch.dim(1));
  }
  return ids;
}

TEST(PackedLoader, WindowsAreContiguousSlicesOfTheStream) {
  PackedLoader loader(counting_store(1000, 37), 10, {.batch_size = 4, .seed = 1});
  EXPECT_EQ(loader.schedule().num_samples(), 100);
  EXPECT_EQ(loader.schedule().steps_per_epoch(), 25);
  const Tensor batch = loader.next();
  EXPECT_EQ(batch.shape(), (Shape{4, 10}));
  EXPECT_EQ(window_ids(batch).size(), 4u);  // checks contiguity too
}

TEST(PackedLoader, DeterministicInSeedAndStep) {
  auto store = counting_store(5000, 50);
  PackedLoader a(store, 16, {.batch_size = 8, .seed = 7});
  PackedLoader b(store, 16, {.batch_size = 8, .seed = 7});
  PackedLoader c(store, 16, {.batch_size = 8, .seed = 8});
  bool differs = false;
  for (int step = 0; step < 50; ++step) {
    const Tensor x = a.next(), y = b.batch(step), z = c.next();
    EXPECT_EQ(x.to_vector<int32_t>(), y.to_vector<int32_t>()) << "step " << step;
    differs |= x.to_vector<int32_t>() != z.to_vector<int32_t>();
  }
  EXPECT_TRUE(differs) << "another seed gives another order";
}

TEST(PackedLoader, ResumingFromASavedCursorRepeatsTheSameBatches) {
  auto store = counting_store(3000, 100);
  const LoaderOptions options{.batch_size = 4, .seed = 42, .dp_rank = 1, .dp_size = 2};
  PackedLoader original(store, 12, options);
  for (int i = 0; i < 23; ++i)
    original.next();  // past the first epoch (31 steps) soon
  const std::vector<int64_t> saved = original.cursor().to_vector();
  std::vector<std::vector<int32_t>> expected;
  for (int i = 0; i < 20; ++i)
    expected.push_back(original.next().to_vector<int32_t>());

  PackedLoader resumed(store, 12, options);
  resumed.restore(LoaderCursor::from_vector(saved));
  EXPECT_EQ(resumed.step(), 23);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(resumed.next().to_vector<int32_t>(), expected[i]);
}

TEST(PackedLoader, RestoringAForeignCursorIsAnInputError) {
  auto store = counting_store(3000, 100);
  PackedLoader a(store, 12, {.batch_size = 4, .seed = 1});
  PackedLoader b(store, 12, {.batch_size = 4, .seed = 2});
  PackedLoader c(store, 12, {.batch_size = 8, .seed = 1});
  EXPECT_THROW(b.restore(a.cursor()), InputError);
  EXPECT_THROW(c.restore(a.cursor()), InputError);
  EXPECT_THROW(LoaderCursor::from_vector({1, 2}), InputError);
}

TEST(PackedLoader, RanksAreDisjointAndNoSampleRepeatsWithinAnEpoch) {
  auto store = counting_store(10007, 64);  // 1000 windows of 10; tail dropped
  const int ranks = 4;
  std::vector<PackedLoader> loaders;
  for (int r = 0; r < ranks; ++r) {
    loaders.emplace_back(store, 10,
                         LoaderOptions{.batch_size = 6, .seed = 3, .dp_rank = r, .dp_size = ranks});
  }
  const int64_t steps = loaders[0].schedule().steps_per_epoch();
  EXPECT_EQ(steps, 1000 / 24);
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::set<int64_t> seen;
    for (int64_t s = 0; s < steps; ++s) {
      for (auto& loader : loaders) {
        for (int64_t id : window_ids(loader.next())) {
          EXPECT_TRUE(seen.insert(id).second) << "sample " << id << " twice in epoch " << epoch;
        }
      }
    }
    EXPECT_EQ(static_cast<int64_t>(seen.size()), steps * 24);
  }
  // Consecutive epochs use different orders.
  const std::vector<int64_t> first = loaders[0].schedule().epoch_order(0);
  EXPECT_NE(first, loaders[0].schedule().epoch_order(1));
}

TEST(PackedLoader, TooLittleDataForOneGlobalBatchIsAnInputError) {
  EXPECT_THROW(PackedLoader(counting_store(100, 10), 10, {.batch_size = 4, .dp_size = 4}),
               InputError);
}

TEST(DocumentLoader, ExamplesCarryLabelsAndShardDisjointly) {
  auto store = std::make_shared<TokenStore>();
  store->kind = DocumentKind::classification;
  store->label_names = {"a", "b", "c"};
  store->doc_offsets = {0};
  for (int d = 0; d < 90; ++d) {
    for (int t = 0; t <= d % 5; ++t)
      store->tokens.push_back(d);
    store->tokens.push_back(kEosId);
    store->doc_offsets.push_back(static_cast<int64_t>(store->tokens.size()));
    store->labels.push_back(d % 3);
  }
  std::set<int64_t> seen;
  for (int r = 0; r < 3; ++r) {
    DocumentLoader loader(store, {.batch_size = 5, .seed = 9, .dp_rank = r, .dp_size = 3});
    for (int64_t s = 0; s < loader.schedule().steps_per_epoch(); ++s) {
      for (const Example& e : loader.next()) {
        EXPECT_TRUE(seen.insert(e.index).second);
        EXPECT_EQ(e.label, e.index % 3);
        EXPECT_EQ(static_cast<int64_t>(e.tokens.size()), e.index % 5 + 2);
        EXPECT_EQ(e.tokens.front(), e.index);
      }
    }
  }
  EXPECT_EQ(seen.size(), 90u);
}

}  // namespace
}  // namespace graft
