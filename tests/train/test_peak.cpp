// The MFU denominator: a GEMM peak measured on the model's device and dtype.
#include <gtest/gtest.h>

#include "ops/flops.h"
#include "tests/support/gradcheck.h"
#include "train/peak.h"

namespace graft {
namespace {

TEST(Peak, CpuPeakIsAPositiveF32RateAndLeavesTheLedgerAlone) {
  const FlopsLedger before = flops_ledger();
  const PeakMeasurement p = measure_gemm_peak(Device::cpu, DType::f32, 128, 0.01);
  EXPECT_GT(p.flops_per_second, 1e8);
  EXPECT_GE(p.repeats, 3);
  EXPECT_EQ(p.size, 128);
  EXPECT_EQ(describe_peak(p), "f32 GEMM 128^3 on the cpu");
  EXPECT_EQ(flops_ledger().total(), before.total());
}

TEST(Peak, RatesAreWrittenInGigaOrTera) {
  EXPECT_EQ(format_flops_rate(2.5e11), "250.0 GFLOP/s");
  EXPECT_EQ(format_flops_rate(8.017e14), "801.7 TFLOP/s");
  EXPECT_EQ(format_flops_rate(0), "unknown");
}

TEST(Peak, Bf16OnTheCpuIsRefused) {
  testing::expect_error_containing([] { measure_gemm_peak(Device::cpu, DType::bf16); },
                                   {"no GEMM peak", "bf16", "cpu"});
}

}  // namespace
}  // namespace graft
