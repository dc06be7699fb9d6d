// One lookup through an installed embedkit: the table, the ids and the expected rows are
// spelled out here, so a wrong install (stale headers, wrong library) fails loudly.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <embedkit/embedkit.hpp>

int main() {
  namespace nn = embedkit::nn;

  if (std::strcmp(EMBEDKIT_VERSION_STRING, EMBEDKIT_PACKAGE_VERSION) != 0) {
    std::fprintf(stderr, "header version %s != package version %s\n", EMBEDKIT_VERSION_STRING,
                 EMBEDKIT_PACKAGE_VERSION);
    return 1;
  }

  // A 3 x 2 table: row r is (10r, 10r + 1).
  const embedkit::Tensor table =
      embedkit::Tensor::from_floats({0, 1, 10, 11, 20, 21}, embedkit::Shape{3, 2});
  nn::Embedding emb(nn::EmbeddingOptions(3, 2).weight(table));
  const embedkit::Tensor ids = embedkit::Tensor::from_vector(std::vector<std::int64_t>{2, 0, 2});
  const embedkit::Tensor out = emb.forward(ids);

  const std::vector<float> expected = {20, 21, 0, 1, 20, 21};
  if (out.shape() != embedkit::Shape{3, 2} || out.to_float_vector() != expected) {
    std::fprintf(stderr, "unexpected lookup result: %s\n", out.to_string().c_str());
    return 1;
  }

  // A bad id must raise IndexError.
  try {
    emb.forward(embedkit::Tensor::from_vector(std::vector<std::int64_t>{3}));
    std::fprintf(stderr, "id 3 in a 3-row table did not raise\n");
    return 1;
  } catch (const embedkit::IndexError&) {
  }

  std::printf("embedkit %s installed and working: %s\n", EMBEDKIT_VERSION_STRING,
              out.to_string().c_str());
  return 0;
}
