// embedding on the GPU against the CPU op: the gather (exact), the table
// gradient with repeated and unused ids, f32 and bf16, GPT-2 sizes,
// accumulation, bit-identical reruns, bad ids and bad arguments.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ops/autograd.h"
#include "ops/embedding.h"
#include "tests/support/cuda_compare.h"
#include "tests/support/gradcheck.h"

namespace graft {
namespace {

using testing::random_f32;

struct Inputs {
  Tensor ids, table, upstream;  // on the CPU; table and upstream f32
};

// Ids drawn from the first half of the table only, so some rows repeat and
// others never appear.
Inputs make_inputs(const Shape& ids_shape, int64_t vocab, int64_t d, bool bf16, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Inputs in;
  in.ids = testing::random_indices(ids_shape, static_cast<int32_t>((vocab + 1) / 2), rng);
  in.table = random_f32({vocab, d}, rng, -1.0, 1.0, bf16);
  Shape out_shape = ids_shape;
  out_shape.push_back(d);
  in.upstream = random_f32(out_shape, rng, -1.0, 1.0, bf16);
  return in;
}

struct Results {
  Tensor out, dtable;
};

Results run(const Inputs& in, Device device, DType dtype, int passes = 1) {
  Tensor table = device == Device::cuda ? testing::to_gpu(in.table, dtype) : in.table.clone();
  Tensor ids = device == Device::cuda ? in.ids.to(Device::cuda) : in.ids;
  Tensor up = device == Device::cuda ? testing::to_gpu(in.upstream, dtype) : in.upstream;
  table.set_requires_grad();
  Results r;
  for (int p = 0; p < passes; ++p) {
    r.out = embedding(ids, table);
    tape().backward(r.out, up);
  }
  r.dtable = table.grad();
  return r;
}

void check_against_cpu(DType dtype, double tolerance) {
  for (int64_t vocab : {3, 257, 50304}) {
    for (int64_t d : {1, 7, 33, 768}) {
      for (const Shape& ids_shape : std::vector<Shape>{{1}, {3, 43}, {129}}) {
        const Inputs in = make_inputs(ids_shape, vocab, d, dtype == DType::bf16, vocab + d);
        const Results gpu = run(in, Device::cuda, dtype);
        const Results cpu = run(in, Device::cpu, DType::f32);
        const std::string what = std::string(dtype_name(dtype)) + " V " + std::to_string(vocab) +
                                 " D " + std::to_string(d) + " ids " + shape_string(ids_shape);
        EXPECT_EQ(gpu.out.dtype(), dtype) << what;
        // A gather copies: exact in either dtype (the CPU side holds the same values).
        EXPECT_EQ(testing::as_doubles(testing::to_cpu_f32(gpu.out)), testing::as_doubles(cpu.out))
            << what;
        testing::expect_relative_error_below(gpu.dtable, cpu.dtable, tolerance, what + " dtable");
      }
    }
  }
}

TEST(CudaEmbedding, F32MatchesCpu) {
  GRAFT_REQUIRE_GPU();
  check_against_cpu(DType::f32, 1e-5);
}

TEST(CudaEmbedding, Bf16MatchesCpuOnRoundedInputs) {
  GRAFT_REQUIRE_GPU();
  check_against_cpu(DType::bf16, 1e-2);
}

TEST(CudaEmbedding, Gpt2SizesMatchCpu) {
  GRAFT_REQUIRE_GPU();
  const Inputs in = make_inputs({8, 2048}, 50304, 768, false, 1);
  const Results gpu = run(in, Device::cuda, DType::f32);
  const Results cpu = run(in, Device::cpu, DType::f32);
  EXPECT_EQ(testing::as_doubles(gpu.out), testing::as_doubles(cpu.out));
  testing::expect_relative_error_below(gpu.dtable, cpu.dtable, 1e-5, "GPT-2 dtable");
}

TEST(CudaEmbedding, ScalarAndEmptyIds) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(2);
  Tensor table = random_f32({4, 3}, rng).to(Device::cuda);
  Tensor one = embedding(Tensor::from_vector<int32_t>({2}, {}).to(Device::cuda), table);
  EXPECT_EQ(one.shape(), (Shape{3}));
  Tensor none = embedding(Tensor::zeros({0, 6}, DType::i32, Device::cuda), table);
  EXPECT_EQ(none.shape(), (Shape{0, 6, 3}));
}

TEST(CudaEmbedding, GradientsAccumulateAcrossBackwardPasses) {
  GRAFT_REQUIRE_GPU();
  for (DType dtype : {DType::f32, DType::bf16}) {
    const Inputs in = make_inputs({5, 31}, 97, 40, dtype == DType::bf16, 3);
    const std::vector<double> once =
        testing::as_doubles(testing::to_cpu_f32(run(in, Device::cuda, dtype, 1).dtable));
    const std::vector<double> twice =
        testing::as_doubles(testing::to_cpu_f32(run(in, Device::cuda, dtype, 2).dtable));
    ASSERT_EQ(once.size(), twice.size());
    for (size_t i = 0; i < once.size(); ++i)
      ASSERT_EQ(twice[i], 2 * once[i]) << dtype_name(dtype) << " element " << i;
  }
}

TEST(CudaEmbedding, RerunsAreBitIdentical) {
  GRAFT_REQUIRE_GPU();
  const Inputs in = make_inputs({16384}, 1000, 768, true, 4);  // many repeats per row
  const Results a = run(in, Device::cuda, DType::bf16);
  const Results b = run(in, Device::cuda, DType::bf16);
  EXPECT_EQ(testing::as_doubles(testing::to_cpu_f32(a.dtable)),
            testing::as_doubles(testing::to_cpu_f32(b.dtable)));
}

TEST(CudaEmbedding, BadIdsNameTheFirstOne) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(5);
  Tensor table = random_f32({13, 4}, rng).to(Device::cuda);
  for (int32_t bad : {13, -1}) {
    Tensor ids = testing::random_indices({2, 7}, 13, rng);
    ids.data<int32_t>()[9] = bad;
    ids.data<int32_t>()[12] = 99;  // a later bad id is not the one named
    testing::expect_error_containing(
        [&] { embedding(ids.to(Device::cuda), table); },
        {"embedding: id " + std::to_string(bad) + " at position [1, 2]",
         "is outside [0, V) for V=13"});
  }
}

TEST(CudaEmbedding, BadArgumentsAreClearErrors) {
  GRAFT_REQUIRE_GPU();
  std::mt19937_64 rng(6);
  Tensor ids = testing::random_indices({4}, 5, rng);
  Tensor table64 = testing::random_tensor({5, 3}, rng, DType::f64).to(Device::cuda);
  testing::expect_error_containing([&] { embedding(ids.to(Device::cuda), table64); },
                                   {"embedding", "f64"});
  Tensor table = random_f32({5, 3}, rng).to(Device::cuda);
  testing::expect_error_containing([&] { embedding(ids, table); },
                                   {"embedding", "different devices"});
}

}  // namespace
}  // namespace graft
