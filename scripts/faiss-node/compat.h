// Forced into faiss-node's src/faiss.cc with `-include` when it is built against
// a system faiss (scripts/install-faiss-node.mjs).
//
// faiss-node 0.5.1 uses `faiss::idx_t`, which faiss >= 1.7.4 declares at namespace
// level. Debian 12 ships faiss 1.7.3, where it only exists as `faiss::Index::idx_t`.
// Re-declaring the same alias is legal C++, so this is harmless on newer faiss.
#pragma once
#include <cstdint>

namespace faiss {
typedef int64_t idx_t;
}
