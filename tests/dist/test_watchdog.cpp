// The collective watchdog fires for an operation that stays armed too long,
// and only for that one.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <mutex>
#include <thread>

#include "dist/watchdog.h"
#include "ops/check.h"

namespace graft::dist {
namespace {

struct Fired {
  std::mutex mutex;
  std::vector<std::string> messages;
  void operator()(const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex);
    messages.push_back(message);
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mutex);
    return messages.size();
  }
};

TEST(DistWatchdog, FiresOnceNamingRankAndCollective) {
  Fired fired;
  Watchdog dog(0.05, "rank 1 of 2 (dp 1 of 2, tp 0 of 1)", [&](const std::string& m) { fired(m); });
  auto guard = dog.watch("all_reduce(sum) of f32[7] on the dp group (2 ranks)");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(fired.count(), 1u);
  EXPECT_EQ(fired.messages[0],
            "graft: rank 1 of 2 (dp 1 of 2, tp 0 of 1): all_reduce(sum) of f32[7] on the dp group "
            "(2 ranks) did not complete within 0.05 s (the collective timeout): another rank has "
            "probably died or hung. Aborting the job.");
}

TEST(DistWatchdog, QuietWhenCollectivesComplete) {
  Fired fired;
  Watchdog dog(0.2, "rank 0", [&](const std::string& m) { fired(m); });
  for (int i = 0; i < 100; ++i) {
    auto guard = dog.watch("barrier");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(fired.count(), 0u);
}

TEST(DistWatchdog, OnlyTheLateOneFires) {
  Fired fired;
  Watchdog dog(0.1, "rank 0", [&](const std::string& m) { fired(m); });
  auto late = dog.watch("late");
  for (int i = 0; i < 20; ++i) {
    auto quick = dog.watch("quick");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_EQ(fired.count(), 1u);
  EXPECT_NE(fired.messages[0].find(": late did not complete"), std::string::npos);
}

TEST(DistWatchdog, DisabledHasNoThreadAndNeverFires) {
  Fired fired;
  Watchdog dog(0, "rank 0", [&](const std::string& m) { fired(m); });
  EXPECT_FALSE(dog.enabled());
  auto guard = dog.watch("anything");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(fired.count(), 0u);
}

// A timeout beyond the int64 nanoseconds of the clock (~9.2e9 s) used to wrap
// to a deadline in the past, so `graft train --timeout 1e10` (or inf) aborted
// the job at its first collective with "did not complete within 1e+10 s".
TEST(DistWatchdog, HugeOrInfiniteTimeoutNeverFires) {
  for (const double timeout : {1e10, 9.3e9, 1e300, std::numeric_limits<double>::infinity()}) {
    Fired fired;
    Watchdog dog(timeout, "rank 0", [&](const std::string& m) { fired(m); });
    {
      auto guard = dog.watch("barrier");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(fired.count(), 0u) << "timeout " << timeout << ": "
                                 << (fired.count() ? fired.messages[0] : "");
  }
  EXPECT_FALSE(Watchdog(std::numeric_limits<double>::infinity(), "rank 0", {}).enabled());
  EXPECT_TRUE(Watchdog(1e10, "rank 0", {}).enabled());
}

TEST(DistWatchdog, NanTimeoutIsAnError) {
  EXPECT_THROW(Watchdog(std::numeric_limits<double>::quiet_NaN(), "rank 0", {}), Error);
}

}  // namespace
}  // namespace graft::dist
