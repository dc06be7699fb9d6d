#include "kernels/cpu/gemm.hpp"

#include <algorithm>
#include <vector>

namespace embedkit::kernels::cpu {

namespace {

// Register tile: kRows rows of C by kCols columns stay in registers across a run of k
// (4 x 8 floats = 8 SSE registers, 4 AVX ones), each B value loaded once per kRows rows.
constexpr std::int64_t kRows = 4;
constexpr std::int64_t kCols = 8;
// Cache blocks: kDepth x kBlockCols of B is packed once (512 KiB, for L2) and used by every row
// tile; a row tile's kDepth values of A (4 KiB) stay in L1 across the block's panels.
constexpr std::int64_t kDepth = 256;
constexpr std::int64_t kBlockCols = 512;

// C tile (Rows x cols, cols <= kCols) += A[0:Rows, 0:depth] * panel, where panel is depth x
// kCols contiguous (columns past `cols` are zero padding and never stored).
template <std::int64_t Rows>
void tile(std::int64_t depth, std::int64_t cols, const float* a, std::int64_t a_rs,
          std::int64_t a_cs, const float* panel, float* c, std::int64_t ldc) {
  float acc[Rows][kCols] = {};
  // Full-width tiles (all but a block's last) load and store with a constant bound, which the
  // compiler turns into vector moves.
  const bool full = cols == kCols;
  for (std::int64_t r = 0; r < Rows; ++r) {
    if (full) {
      for (std::int64_t j = 0; j < kCols; ++j) acc[r][j] = c[r * ldc + j];
    } else {
      for (std::int64_t j = 0; j < cols; ++j) acc[r][j] = c[r * ldc + j];
    }
  }
  for (std::int64_t p = 0; p < depth; ++p) {
    const float* b = panel + p * kCols;
    for (std::int64_t r = 0; r < Rows; ++r) {
      const float av = a[r * a_rs + p * a_cs];
      for (std::int64_t j = 0; j < kCols; ++j) acc[r][j] += av * b[j];
    }
  }
  for (std::int64_t r = 0; r < Rows; ++r) {
    if (full) {
      for (std::int64_t j = 0; j < kCols; ++j) c[r * ldc + j] = acc[r][j];
    } else {
      for (std::int64_t j = 0; j < cols; ++j) c[r * ldc + j] = acc[r][j];
    }
  }
}

// Fewer rows or fewer k than a tile: packing B, or loading a C tile for a handful of products,
// would cost as much as the product, so B is read in place. With B's rows contiguous, C's row
// accumulates a[i, p] * B[p, :] for ascending p (vectorized along the row); otherwise each
// element is a dot product along k, as in the reference.
void in_place(std::int64_t m, std::int64_t n, std::int64_t k, MatrixView a, MatrixView b, float* c,
              std::int64_t ldc) {
  if (b.col_stride != 1) {
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        float acc = c[i * ldc + j];
        for (std::int64_t p = 0; p < k; ++p) {
          acc += a.data[i * a.row_stride + p * a.col_stride] *
                 b.data[p * b.row_stride + j * b.col_stride];
        }
        c[i * ldc + j] = acc;
      }
    }
    return;
  }
  for (std::int64_t j0 = 0; j0 < n; j0 += kBlockCols) {
    const std::int64_t cols = std::min(kBlockCols, n - j0);
    for (std::int64_t i = 0; i < m; ++i) {
      float* c_row = c + i * ldc + j0;
      for (std::int64_t p = 0; p < k; ++p) {
        const float av = a.data[i * a.row_stride + p * a.col_stride];
        const float* b_row = b.data + p * b.row_stride + j0;
        for (std::int64_t j = 0; j < cols; ++j) c_row[j] += av * b_row[j];
      }
    }
  }
}

// Packs B[k0:k0+depth, j0:j0+cols] as ceil(cols / kCols) panels of depth x kCols, zero-padded.
void pack(MatrixView b, std::int64_t k0, std::int64_t depth, std::int64_t j0, std::int64_t cols,
          float* out) {
  const std::int64_t panels = (cols + kCols - 1) / kCols;
  for (std::int64_t q = 0; q < panels; ++q) {
    float* panel = out + q * depth * kCols;
    const std::int64_t first = j0 + q * kCols;
    const std::int64_t width = std::min(kCols, j0 + cols - first);
    // Walk B along its contiguous direction.
    if (b.col_stride == 1) {
      for (std::int64_t p = 0; p < depth; ++p) {
        const float* src = b.data + (k0 + p) * b.row_stride + first;
        std::int64_t j = 0;
        for (; j < width; ++j) panel[p * kCols + j] = src[j];
        for (; j < kCols; ++j) panel[p * kCols + j] = 0.0f;
      }
    } else {
      for (std::int64_t j = 0; j < kCols; ++j) {
        if (j < width) {
          const float* src = b.data + k0 * b.row_stride + (first + j) * b.col_stride;
          for (std::int64_t p = 0; p < depth; ++p) panel[p * kCols + j] = src[p * b.row_stride];
        } else {
          for (std::int64_t p = 0; p < depth; ++p) panel[p * kCols + j] = 0.0f;
        }
      }
    }
  }
}

}  // namespace

void gemm_accumulate(std::int64_t m, std::int64_t n, std::int64_t k, MatrixView a, MatrixView b,
                     float* c, std::int64_t ldc) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  if (m < kRows || (k < kRows && b.col_stride == 1)) {
    in_place(m, n, k, a, b, c, ldc);
    return;
  }
  const std::int64_t block_cols = std::min(n, kBlockCols);
  const std::int64_t max_panels = (block_cols + kCols - 1) / kCols;
  std::vector<float> packed(static_cast<std::size_t>(std::min(k, kDepth) * max_panels * kCols));
  // k blocks in ascending order, each finished over all of C before the next: every C element
  // still sums its products in ascending k.
  for (std::int64_t k0 = 0; k0 < k; k0 += kDepth) {
    const std::int64_t depth = std::min(kDepth, k - k0);
    const float* a_block = a.data + k0 * a.col_stride;
    for (std::int64_t j0 = 0; j0 < n; j0 += kBlockCols) {
      const std::int64_t cols = std::min(kBlockCols, n - j0);
      const std::int64_t panels = (cols + kCols - 1) / kCols;
      pack(b, k0, depth, j0, cols, packed.data());
      // Row tiles outside, panels inside: each tile sweeps one contiguous stretch of C's rows.
      for (std::int64_t i = 0; i < m;) {
        const bool full = i + kRows <= m;
        const float* a_rows = a_block + i * a.row_stride;
        for (std::int64_t q = 0; q < panels; ++q) {
          const std::int64_t first = q * kCols;
          const std::int64_t width = std::min(kCols, cols - first);
          const float* panel = packed.data() + q * depth * kCols;
          float* c_tile = c + i * ldc + j0 + first;
          if (full) {
            tile<kRows>(depth, width, a_rows, a.row_stride, a.col_stride, panel, c_tile, ldc);
          } else {
            tile<1>(depth, width, a_rows, a.row_stride, a.col_stride, panel, c_tile, ldc);
          }
        }
        i += full ? kRows : 1;
      }
    }
  }
}

}  // namespace embedkit::kernels::cpu
