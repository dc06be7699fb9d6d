// Checkpoints of a sharded table (docs/distributed.md), in a directory every rank can read
// (a shared file system: loading at another P reads other ranks' shards):
//
//   shard-<rank>-of-<P>-<save id>.safetensors   one per rank: "weight" [its rows, D], written
//                                               atomically by its rank (io::AtomicFile)
//   manifest.json                               written last, atomically, by rank 0: P, the
//                                               sharding, N, D, the dtype, and per shard its
//                                               file, rows and the XXH64 of its bytes
//
// Each save writes new shard files (a fresh save id), then commits the manifest: the manifest's
// rename is the moment the checkpoint changes, so a save killed at any point leaves the
// previous checkpoint whole. The shard files of earlier saves are removed after the commit.
//
// Loading reshards: a checkpoint saved at P ranks with any sharding loads into a table of any
// P and sharding with the same num_embeddings, embedding_dim and dtype; each rank reads only
// the old shards that hold its rows. A missing, truncated or altered shard, or a manifest that
// does not fit the table, is an IoError / ValueError on every rank, and no shard changes.
//
// Optimizer state is not saved yet (the row-wise state reshards as the rows do; to come).
#pragma once

#include <filesystem>

#include "embedkit/dist/sharded_embedding_bag.hpp"

namespace embedkit::dist {

// The manifest's name in a checkpoint directory.
inline constexpr const char* kShardedManifestName = "manifest.json";

// Collective. `directory` must exist.
void save_sharded(const std::filesystem::path& directory, const ShardedEmbeddingBag& table);

// Collective: replaces the table's rows with the checkpoint's (see above for the checks).
void load_sharded(const std::filesystem::path& directory, ShardedEmbeddingBag& table);

}  // namespace embedkit::dist
