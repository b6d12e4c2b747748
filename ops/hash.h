// SplitMix64's step-and-finalise: a bijective mix of 64 bits. Every seeded
// choice in graft (dropout masks, parameter init, dropout site seeds, data
// sampling) derives from it, so one definition serves all layers.
#pragma once

#include <cstdint>

namespace graft {

inline constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

inline uint64_t mix64(uint64_t x) {
  x += kGoldenGamma;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace graft
