// The collective watchdog fires for an operation that stays armed too long,
// and only for that one.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "dist/watchdog.h"

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

}  // namespace
}  // namespace graft::dist
