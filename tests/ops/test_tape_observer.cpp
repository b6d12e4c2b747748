// The tape's observer hook (Tape::Observer in ops/autograd.h), which the
// data-parallel GradientReducer uses to start reductions during backward.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ops/autograd.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

struct Recorder : Tape::Observer {
  std::vector<std::pair<const TensorImpl*, size_t>> inputs;
  std::vector<size_t> entries;
  void on_input(const Tensor& t, size_t index) override { inputs.emplace_back(t.impl(), index); }
  void after_entry(size_t index) override { entries.push_back(index); }
};

TEST(TapeObserver, SeesInputsAtTheirEntryIndexAndEntriesInReverse) {
  std::mt19937_64 rng(3);
  Tensor x = testing::random_tensor({3, 4}, rng);
  Tensor w1 = testing::random_tensor({5, 4}, rng).set_requires_grad(true);
  Tensor w2 = testing::random_tensor({1, 5}, rng).set_requires_grad(true);
  Recorder rec;
  tape().set_observer(&rec);
  Tensor h = linear(x, w1);                        // entry 0 reads w1 (x needs no gradient)
  Tensor y = linear(h, w2);                        // entry 1 reads h and w2
  Tensor loss = scale(y.reshape({3}), 1.0 / 3.0);  // entries 2 (reshape) and 3
  ASSERT_EQ(tape().size(), 4u);
  tape().backward(loss, Tensor::full({3}, 1.0, DType::f64));
  tape().set_observer(nullptr);

  std::vector<std::pair<const TensorImpl*, size_t>> want = {
      {w1.impl(), 0}, {h.impl(), 1}, {w2.impl(), 1}, {y.impl(), 2}};
  ASSERT_GE(rec.inputs.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(rec.inputs[i], want[i]) << "input " << i;
  EXPECT_EQ(rec.entries, (std::vector<size_t>{3, 2, 1, 0}));
  EXPECT_TRUE(w1.has_grad());
}

TEST(TapeObserver, NothingIsReportedWithoutGradientsOrObserver) {
  std::mt19937_64 rng(4);
  Tensor w = testing::random_tensor({2, 2}, rng).set_requires_grad(true);
  Recorder rec;
  tape().set_observer(&rec);
  {
    NoGradGuard guard;
    (void)linear(w, w);
  }
  tape().set_observer(nullptr);
  EXPECT_TRUE(rec.inputs.empty());
  Tensor out = linear(w, w);  // no observer: recorded as always
  EXPECT_EQ(tape().size(), 1u);
  tape().clear();
  EXPECT_TRUE(rec.inputs.empty());
}

}  // namespace
}  // namespace graft
