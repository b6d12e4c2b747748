// ckpt_compare A.h5 B.h5 [tolerance]: every parameter of two checkpoints must
// have the same names and shapes and agree within tolerance (default 1e-5),
// relative to each tensor's largest magnitude. Exits 1 otherwise. Used by
// train_checks.sh to compare runs resumed under different tp × dp layouts.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "train/checkpoint.h"

int main(int argc, char** argv) {
  using namespace graft;
  if (argc < 3) {
    std::fprintf(stderr, "usage: ckpt_compare A.h5 B.h5 [tolerance]\n");
    return 2;
  }
  const double tolerance = argc > 3 ? std::stod(argv[3]) : 1e-5;
  try {
    const CheckpointContents a = load_checkpoint(argv[1]);
    const CheckpointContents b = load_checkpoint(argv[2]);
    int failures = 0;
    double worst = 0;
    if (a.parameters.size() != b.parameters.size()) {
      std::printf("FAIL: %zu vs %zu parameters\n", a.parameters.size(), b.parameters.size());
      return 1;
    }
    for (const NamedParameter& p : a.parameters) {
      const Tensor& q = b.parameter(p.name);
      if (q.shape() != p.tensor.shape()) {
        std::printf("FAIL: %s: shapes differ\n", p.name.c_str());
        ++failures;
        continue;
      }
      const std::vector<double> x = p.tensor.to(DType::f64).to_vector<double>();
      const std::vector<double> y = q.to(DType::f64).to_vector<double>();
      double diff = 0, scale = 1e-3;
      for (size_t i = 0; i < x.size(); ++i) {
        diff = std::max(diff, std::abs(x[i] - y[i]));
        scale = std::max(scale, std::abs(y[i]));
      }
      worst = std::max(worst, diff / scale);
      if (diff / scale > tolerance) {
        std::printf("FAIL: %s differs by %.3e (relative)\n", p.name.c_str(), diff / scale);
        ++failures;
      }
    }
    std::printf("%s: %zu parameters, steps %lld and %lld, max relative difference %.3e\n",
                failures ? "FAIL" : "PASS", a.parameters.size(), static_cast<long long>(a.step),
                static_cast<long long>(b.step), worst);
    return failures || a.step != b.step ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ckpt_compare: error: %s\n", e.what());
    return 2;
  }
}
