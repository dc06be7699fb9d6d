// How the three cosine forms of KeyedVectors compare, word pair by word pair, on generated rows
// (docs/memory-mapping.md, "eval without the unit-norm copy"): eval's word-pair cosine (the two
// rows scaled by their inverse norms, unit_row, products summed in double), similarity() (the
// eight-lane float product of the two unit rows) and the queries' score (the eight-lane float
// product of the unit query with the raw row, times the row's inverse norm), each against the
// cosine computed in long double from the raw values.
//   c++ -O2 -std=c++20 -Iinclude bench/mapped/cosine_forms.cpp build/libembedkit.a -lz -pthread
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "embedkit/core/generator.hpp"
#include "embedkit/vectors/keyed_vectors.hpp"

using embedkit::Tensor;
using embedkit::vectors::KeyedVectors;

int main() {
  const std::int64_t rows = 1000;
  for (const std::int64_t dim : {13, 100, 256, 300}) {
    embedkit::Generator gen(static_cast<std::uint64_t>(dim));
    Tensor m = Tensor::empty({rows, dim}, embedkit::DType::Float32);
    for (std::int64_t i = 0; i < m.numel(); ++i) {
      m.data<float>()[i] = static_cast<float>(gen.normal());
    }
    std::vector<std::string> words;
    for (std::int64_t i = 0; i < rows; ++i) words.push_back("w" + std::to_string(i));
    const KeyedVectors kv(words, m);
    long double err_eval = 0, err_sim = 0, err_query = 0, max_eval = 0, max_sim = 0, max_query = 0;
    int pairs = 0, eval_vs_sim = 0, eval_vs_query = 0;
    std::vector<float> ua(static_cast<std::size_t>(dim)), ub(ua.size());
    for (std::int64_t a = 0; a < 50; ++a) {
      std::vector<float> query(static_cast<std::size_t>(rows));
      for (const auto& nb : kv.most_similar(words[a], rows)) query[nb.index] = nb.score;
      for (std::int64_t b = 0; b < rows; b += 7) {
        if (b == a) continue;
        kv.unit_row(a, ua.data());
        kv.unit_row(b, ub.data());
        double cos = 0.0;
        for (std::int64_t j = 0; j < dim; ++j) cos += static_cast<double>(ua[j]) * ub[j];
        const float sim = kv.similarity(words[a], words[b]);
        const float* xa = m.data<float>() + a * dim;
        const float* xb = m.data<float>() + b * dim;
        long double dot = 0, sa = 0, sb = 0;
        for (std::int64_t j = 0; j < dim; ++j) {
          dot += static_cast<long double>(xa[j]) * xb[j];
          sa += static_cast<long double>(xa[j]) * xa[j];
          sb += static_cast<long double>(xb[j]) * xb[j];
        }
        const long double exact = dot / std::sqrt(sa * sb);
        const long double e1 = std::fabs(cos - exact);
        const long double e2 = std::fabs(sim - exact);
        const long double e3 = std::fabs(query[b] - exact);
        err_eval += e1;
        err_sim += e2;
        err_query += e3;
        max_eval = std::max(max_eval, e1);
        max_sim = std::max(max_sim, e2);
        max_query = std::max(max_query, e3);
        ++pairs;
        eval_vs_sim += static_cast<float>(cos) != sim;
        eval_vs_query += static_cast<float>(cos) != query[b];
      }
    }
    std::printf(
        "D %lld, %d pairs: float(eval) != similarity() %d, != query score %d; |error| mean / max: "
        "eval %.2Le / %.2Le, similarity() %.2Le / %.2Le, query score %.2Le / %.2Le\n",
        static_cast<long long>(dim), pairs, eval_vs_sim, eval_vs_query, err_eval / pairs, max_eval,
        err_sim / pairs, max_sim, err_query / pairs, max_query);
  }
}
