// Multi-rank check of the communicators, run under mpirun or srun by ctest
// (tests/dist/multi_rank_tests.cmake). Every collective's result is compared
// with its closed form, computed locally; exits 1 on the first mismatch.
//
// Options: --tp N (grid; default 1), --timeout S (collective watchdog),
// --fail hang|die and --fail-rank R (make rank R, default the last, hang past
// the timeout or die before its first collective: the job must end non-zero).
// Rank 0 prints "checksum <hex>" over every result, which srun and mpirun runs
// of the same size must agree on.
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "dist/context.h"
#include "dist/ledger.h"
#include "ops/check.h"

namespace graft::dist {
namespace {

struct Options {
  DistOptions dist;
  std::string fail = "none";
  int fail_rank = -1;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    GRAFT_INPUT_CHECK(i + 1 < argc, "option " << arg << " needs a value");
    std::string value = argv[++i];
    if (arg == "--tp") {
      options.dist.tp = std::stoi(value);
    } else if (arg == "--timeout") {
      options.dist.timeout_seconds = std::stod(value);
    } else if (arg == "--fail") {
      GRAFT_INPUT_CHECK(value == "hang" || value == "die", "--fail takes hang or die");
      options.fail = value;
    } else if (arg == "--fail-rank") {
      options.fail_rank = std::stoi(value);
    } else {
      GRAFT_INPUT_CHECK(false, "unknown option " << arg);
    }
  }
  return options;
}

// FNV-1a over every result, so two launches can compare all their bits.
uint64_t checksum = 1469598103934665603ull;
void absorb(const Tensor& tensor) {
  const auto* bytes = static_cast<const unsigned char*>(tensor.raw_data());
  for (size_t i = 0; i < tensor.bytes(); ++i)
    checksum = (checksum ^ bytes[i]) * 1099511628211ull;
}

int failures = 0;
int world_rank = 0;

template <class T>
void expect_values(const Tensor& got, const std::function<T(int64_t)>& expected,
                   const std::string& what) {
  const T* data = got.data<T>();
  for (int64_t i = 0; i < got.numel(); ++i) {
    T want = expected(i);
    if (data[i] != want) {
      std::fprintf(stderr, "rank %d: %s: element %lld is %.17g, expected %.17g\n", world_rank,
                   what.c_str(), static_cast<long long>(i), static_cast<double>(data[i]),
                   static_cast<double>(want));
      ++failures;
      return;
    }
  }
  absorb(got);
}

// Small multiples of 1/4: every sum below is exact in f32, so exact equality
// with the closed form is the right test for all three dtypes.
template <class T>
T pattern(int64_t i) {
  T base = static_cast<T>(i % 17) - static_cast<T>(8);
  if constexpr (std::is_floating_point_v<T>) base += static_cast<T>(0.25);
  return base;
}

template <class T>
Tensor filled(int64_t n, const std::function<T(int64_t)>& value) {
  Tensor tensor = Tensor::empty({n}, dtype_of<T>());
  T* data = tensor.data<T>();
  for (int64_t i = 0; i < n; ++i)
    data[i] = value(i);
  return tensor;
}

template <class T>
void check_collectives(Communicator& comm) {
  const int n = comm.size(), r = comm.rank();
  const T triangle = static_cast<T>(n * (n + 1) / 2);  // sum over ranks of (rank + 1)
  const std::string type = dtype_name(dtype_of<T>());
  for (int64_t size : {1, 7, 1001, 65537}) {
    const std::string what = type + "[" + std::to_string(size) + "] on " + comm.name();
    auto mine = [&](int64_t i) { return static_cast<T>(r + 1) * pattern<T>(i); };
    Tensor x = filled<T>(size, mine);
    comm.all_reduce(x, ReduceOp::sum);
    expect_values<T>(
        x, [&](int64_t i) { return pattern<T>(i) * triangle; }, "all_reduce " + what);
    if constexpr (std::is_floating_point_v<T>) {
      Tensor y = filled<T>(size, mine);
      comm.all_reduce(y, ReduceOp::average);
      expect_values<T>(
          y, [&](int64_t i) { return pattern<T>(i) * triangle / static_cast<T>(n); },
          "all_reduce(average) " + what);
    }
    // Two in flight, waited on in reverse order, a third polled to completion.
    Tensor a = filled<T>(size, mine), b = filled<T>(size, [&](int64_t i) { return mine(i) * 2; });
    Tensor c = filled<T>(size, mine);
    auto pending_a = comm.all_reduce_async(a, ReduceOp::sum);
    auto pending_b = comm.all_reduce_async(b, ReduceOp::sum);
    auto pending_c = comm.all_reduce_async(c, ReduceOp::sum);
    pending_b->wait();
    pending_a->wait();
    while (!pending_c->ready()) {
    }
    expect_values<T>(
        a, [&](int64_t i) { return pattern<T>(i) * triangle; }, "async a " + what);
    expect_values<T>(
        b, [&](int64_t i) { return pattern<T>(i) * triangle * 2; }, "async b " + what);
    expect_values<T>(
        c, [&](int64_t i) { return pattern<T>(i) * triangle; }, "async c " + what);
  }
  for (int64_t chunk : {1, 5, 333}) {
    const std::string what = type + " chunk " + std::to_string(chunk) + " on " + comm.name();
    Tensor whole =
        filled<T>(chunk * n, [&](int64_t i) { return static_cast<T>(r + 1) * pattern<T>(i); });
    Tensor part = Tensor::zeros({chunk}, dtype_of<T>());
    comm.reduce_scatter(whole, part, ReduceOp::sum);
    expect_values<T>(
        part, [&](int64_t j) { return pattern<T>(r * chunk + j) * triangle; },
        "reduce_scatter " + what);

    auto contribution = [](int rank, int64_t j) {
      return static_cast<T>(rank * 1000) + pattern<T>(j);
    };
    Tensor mine = filled<T>(chunk, [&](int64_t j) { return contribution(r, j); });
    Tensor gathered = Tensor::zeros({n * chunk}, dtype_of<T>());
    comm.all_gather(mine, gathered);
    expect_values<T>(
        gathered, [&](int64_t k) { return contribution(static_cast<int>(k / chunk), k % chunk); },
        "all_gather " + what);

    for (int root : {0, n - 1}) {
      Tensor x = filled<T>(
          chunk, [&](int64_t j) { return r == root ? contribution(root, j) : static_cast<T>(-1); });
      comm.broadcast(x, root);
      expect_values<T>(
          x, [&](int64_t j) { return contribution(root, j); },
          "broadcast from " + std::to_string(root) + " " + what);
    }
  }
  comm.barrier();
}

// Each group's sum of world ranks and its gathered world ranks must be the
// grid's formula: that proves the split put the right ranks together in order.
void check_group(Communicator& comm, const std::vector<int>& members, int expected_rank) {
  const std::string name = comm.name();
  if (comm.size() != static_cast<int>(members.size()) || comm.rank() != expected_rank) {
    std::fprintf(stderr, "rank %d: %s group is rank %d of %d, expected %d of %zu\n", world_rank,
                 name.c_str(), comm.rank(), comm.size(), expected_rank, members.size());
    ++failures;
    return;
  }
  Tensor mine = Tensor::full({1}, world_rank, DType::i32);
  Tensor gathered = Tensor::zeros({comm.size()}, DType::i32);
  comm.all_gather(mine, gathered);
  expect_values<int32_t>(
      gathered, [&](int64_t k) { return members[k]; }, name + " group members");
  int sum = 0;
  for (int m : members)
    sum += m;
  Tensor total = Tensor::full({3}, world_rank, DType::f64);
  comm.all_reduce(total, ReduceOp::sum);
  expect_values<double>(
      total, [&](int64_t) { return static_cast<double>(sum); }, name + " group sum");
}

// Random operands: the sum's rounding depends on MPI's order, which must be
// the same on every rank. Compare every rank's bits through a gather.
template <class T>
void check_bitwise_agreement(Communicator& comm) {
  uint64_t state = 0x9e3779b97f4a7c15ull * (comm.rank() + 1);
  Tensor x = filled<T>(100003, [&](int64_t) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<T>(static_cast<double>(state >> 11) / 9007199254740992.0 * 2 - 1);
  });
  comm.all_reduce(x, ReduceOp::sum);
  uint64_t hash = 1469598103934665603ull;
  const auto* bytes = static_cast<const unsigned char*>(x.raw_data());
  for (size_t i = 0; i < x.bytes(); ++i)
    hash = (hash ^ bytes[i]) * 1099511628211ull;
  Tensor mine = Tensor::from_vector<int32_t>(
      {static_cast<int32_t>(hash & 0x7fffffff), static_cast<int32_t>(hash >> 33)}, {2});
  Tensor all = Tensor::zeros({2 * comm.size()}, DType::i32);
  comm.all_gather(mine, all);
  const int32_t* h = all.data<int32_t>();
  for (int q = 0; q < comm.size(); ++q) {
    if (h[2 * q] != h[0] || h[2 * q + 1] != h[1]) {
      std::fprintf(stderr, "rank %d: %s sum on %s differs between rank 0 and rank %d\n", world_rank,
                   dtype_name(dtype_of<T>()), comm.name().c_str(), q);
      ++failures;
    }
  }
  absorb(x);
}

void check_ledgers(DistContext& context) {
  const int n = context.world().size(), r = context.world().rank();
  FlopsLedger ledger;
  ledger.add(Phase::forward, FlopsKind::matmul, 1e12 * (r + 1));
  ledger.add(Phase::backward, FlopsKind::attention, 3.0 * r);
  FlopsLedger total = sum_over_ranks(ledger, context.world());
  if (total.forward().matmul != 1e12 * n * (n + 1) / 2 ||
      total.backward().attention != 3.0 * n * (n - 1) / 2 || total.forward().other != 0) {
    std::fprintf(stderr, "rank %d: FLOPs ledger sum wrong: %s\n", r, total.summary().c_str());
    ++failures;
  }
  // Tokens count once per replica: sum over dp, each replica's count its dp_rank + 1.
  const ProcessGrid& grid = context.grid();
  int64_t tokens = sum_over_ranks(int64_t{10000000000} * (grid.dp_rank() + 1), context.dp());
  if (tokens != int64_t{10000000000} * grid.dp * (grid.dp + 1) / 2) {
    std::fprintf(stderr, "rank %d: token sum wrong: %lld\n", r, static_cast<long long>(tokens));
    ++failures;
  }
}

int run(int argc, char** argv) {
  Options options = parse(argc, argv);
  DistContext context(options.dist);
  const ProcessGrid& grid = context.grid();
  world_rank = grid.rank;
  int fail_rank = options.fail_rank >= 0 ? options.fail_rank : grid.world_size - 1;
  if (options.fail != "none" && grid.rank == fail_rank) {
    std::fprintf(stderr, "rank %d: %s before the first collective (as asked)\n", grid.rank,
                 options.fail == "hang" ? "hanging" : "dying");
    if (options.fail == "die") raise(SIGKILL);
    sleep(static_cast<unsigned>(10 * options.dist.timeout_seconds + 10));
  }

  check_collectives<float>(context.world());
  check_collectives<double>(context.world());
  check_collectives<int32_t>(context.world());
  check_collectives<float>(context.tp());
  check_collectives<int32_t>(context.dp());
  check_group(context.tp(), grid.tp_group(), grid.tp_rank());
  check_group(context.dp(), grid.dp_group(), grid.dp_rank());
  check_bitwise_agreement<float>(context.world());
  check_bitwise_agreement<double>(context.world());
  check_bitwise_agreement<float>(context.dp());
  check_ledgers(context);

  // A rank that failed a check must not let the others report success.
  Tensor failed = Tensor::full({1}, failures, DType::i32);
  context.world().all_reduce(failed, ReduceOp::sum);
  const int total_failures = static_cast<int>(failed.item());
  if (grid.rank == 0) {
    std::printf("checksum %016llx\n", static_cast<unsigned long long>(checksum));
    std::printf("%s: %s on %d ranks (dp=%d x tp=%d) under %s\n", argv[0],
                total_failures == 0 ? "all collectives correct" : "FAILED", grid.world_size,
                grid.dp, grid.tp, launcher_name(context.launch().launcher));
  }
  return total_failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace graft::dist

int main(int argc, char** argv) {
  try {
    return graft::dist::run(argc, argv);
  } catch (const graft::InputError& error) {
    std::fprintf(stderr, "dist_collectives: error: %s\n", error.what());
    graft::dist::abort_job(2);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "dist_collectives: rank %d: %s\n", graft::dist::world_rank, error.what());
    graft::dist::abort_job(1);
  }
}
