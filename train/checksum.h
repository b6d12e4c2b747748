// CRC-32 (IEEE 802.3, the zlib/PNG polynomial) for checkpoint datasets.
//
// Implemented here rather than taken from zlib so the checkpoint format does
// not depend on which zlib HDF5 was built against; slicing-by-8 keeps it near
// memory speed, so verifying every dataset on load costs little next to
// reading it. crc32("123456789") == 0xCBF43926.
#pragma once

#include <cstddef>
#include <cstdint>

namespace graft {

// Continues a running CRC: crc32(b, crc32(a)) == crc32(a ++ b).
uint32_t crc32(const void* data, size_t bytes, uint32_t crc = 0);

}  // namespace graft
