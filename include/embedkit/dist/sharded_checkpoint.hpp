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
// With an optimizer, its state of the shard is saved in the shard files ("optimizer.<field>":
// per-row state such as Adagrad's sums is resharded with the rows; 0-dim state such as a step
// count is the same on every rank and taken from shard 0), and the manifest names the
// optimizer: loading it into an optimizer of another kind is a ValueError. An optimizer that
// keeps state of any other shape cannot be checkpointed sharded (ValueError at save).
#pragma once

#include <filesystem>

#include "embedkit/dist/sharded_embedding_bag.hpp"
#include "embedkit/optim/optimizer.hpp"

namespace embedkit::dist {

// The manifest's name in a checkpoint directory.
inline constexpr const char* kShardedManifestName = "manifest.json";

// Collective. `directory` must exist. `optimizer` (optional) must hold this rank's shard.
void save_sharded(const std::filesystem::path& directory, const ShardedEmbeddingBag& table,
                  const optim::Optimizer* optimizer = nullptr);

// Collective: replaces the table's rows (and the optimizer's state of the shard, when an
// optimizer is given; the checkpoint must then hold that optimizer's state) with the
// checkpoint's, all or nothing (see above for the checks). Without an optimizer, saved state
// is left unread.
void load_sharded(const std::filesystem::path& directory, ShardedEmbeddingBag& table,
                  optim::Optimizer* optimizer = nullptr);

}  // namespace embedkit::dist
