// embedkit: embedding tables with PyTorch's semantics, in C++. The umbrella header.
#pragma once

#include "embedkit/core/arg.hpp"
#include "embedkit/core/dtype.hpp"
#include "embedkit/core/error.hpp"
#include "embedkit/core/generator.hpp"
#include "embedkit/core/row_sparse.hpp"
#include "embedkit/core/tensor.hpp"
#include "embedkit/nn/embedding.hpp"
#include "embedkit/nn/embedding_bag.hpp"
#include "embedkit/nn/linear.hpp"
#include "embedkit/nn/one_hot.hpp"
#include "embedkit/nn/unknown_ids.hpp"
#include "embedkit/nn/weight_grad.hpp"
#include "embedkit/version.hpp"
