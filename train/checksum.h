// CRC-32 (IEEE 802.3, the zlib/PNG polynomial) for checkpoint datasets,
// computed by zlib: the standard CRC, so the values stored in checkpoints are
// those any CRC-32 tool gives (and those graft's earlier hand-written
// slicing-by-8 gave: tests/train/test_checkpoint.cpp checks known values and
// a bitwise reference). crc32("123456789") == 0xCBF43926.
#pragma once

#include <cstddef>
#include <cstdint>

namespace graft {

// Continues a running CRC: crc32(b, crc32(a)) == crc32(a ++ b).
uint32_t crc32(const void* data, size_t bytes, uint32_t crc = 0);

}  // namespace graft
