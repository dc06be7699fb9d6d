// Reading fastText's .bin/.ftz model files (fasttext_model.hpp): a cursor over the bytes that
// names the section it is in, so that every truncation says where the file ends.
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/fasttext_model.hpp"
#include "io/file_reading.hpp"

namespace embedkit::io {

namespace {

// The bytes of a model, from memory or streamed from a regular file of known size (so that a
// model of several GB is never held twice: once as bytes, once as matrices). Every count is
// checked against the bytes left before anything is allocated for it.
class Cursor {
 public:
  Cursor(std::span<const std::uint8_t> bytes, const std::string& source)
      : bytes_(bytes), size_(bytes.size()), source_(source) {}
  Cursor(std::FILE* file, std::size_t size, const std::string& source)
      : file_(file), size_(size), source_(source) {}

  std::size_t left() const { return size_ - pos_; }
  const std::string& source() const { return source_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw IoError(source_, what + " (at byte " + std::to_string(pos_) + ")");
  }
  void need(std::size_t n, const std::string& what) const {
    if (left() < n) {
      throw IoError(source_, "truncated: the file ends inside " + what + " (byte " +
                                 std::to_string(size_) + ", " + std::to_string(n) +
                                 " more bytes needed)");
    }
  }
  // A count that the bytes left cannot hold: the file was cut (or lies), and nothing is
  // allocated for it.
  [[noreturn]] void too_large(const std::string& what, const std::string& claim) const {
    throw IoError(source_, "truncated: the file ends inside " + what + " (it says " + claim +
                               ", more than the " + std::to_string(left()) +
                               " bytes left can hold)");
  }
  template <typename T>
  T read(const std::string& what) {
    T value;
    copy(&value, sizeof(T), what);  // little-endian, as fastText writes
    return value;
  }
  bool read_bool(const std::string& what) {
    const auto b = read<std::uint8_t>(what);
    if (b > 1) fail(what + " is " + std::to_string(b) + ", not a boolean (0 or 1)");
    return b == 1;
  }
  // A string ended by a 0 byte.
  std::string read_cstring(const std::string& what) {
    std::string s;
    if (file_ == nullptr) {
      const auto* begin = bytes_.data() + pos_;
      const void* zero = std::memchr(begin, 0, left());
      if (zero != nullptr) {
        s.assign(reinterpret_cast<const char*>(begin),
                 static_cast<std::size_t>(static_cast<const std::uint8_t*>(zero) - begin));
        pos_ += s.size() + 1;
        return s;
      }
    } else {
      while (left() > 0) {
        const int c = getc_unlocked(file_);
        if (c == EOF) read_failed(what);
        ++pos_;
        if (c == 0) return s;
        s.push_back(static_cast<char>(c));
      }
    }
    throw IoError(source_, "truncated: the file ends inside " + what + " (no 0 byte ends it)");
  }
  // `count` float32 into `out`, after checking the bytes are there.
  void read_floats(float* out, std::size_t count, const std::string& what) {
    if (count > left() / sizeof(float)) need(count * sizeof(float), what);
    copy(out, count * sizeof(float), what);
  }
  std::vector<std::uint8_t> take(std::size_t count, const std::string& what) {
    need(count, what);
    std::vector<std::uint8_t> out(count);
    copy(out.data(), count, what);
    return out;
  }

 private:
  void copy(void* out, std::size_t n, const std::string& what) {
    need(n, what);
    if (file_ == nullptr) {
      if (n > 0) std::memcpy(out, bytes_.data() + pos_, n);
    } else if (n > 0 && std::fread(out, 1, n, file_) != n) {
      read_failed(what);
    }
    pos_ += n;
  }
  // The file gave fewer bytes than its size said: a read error, or it shrank while read.
  [[noreturn]] void read_failed(const std::string& what) const {
    throw IoError(source_, "cannot read " + what + " at byte " + std::to_string(pos_) +
                               (std::ferror(file_) ? std::string(": ") + std::strerror(errno)
                                                   : std::string(": the file got shorter while "
                                                                 "it was read")));
  }

  std::span<const std::uint8_t> bytes_;
  std::FILE* file_ = nullptr;
  std::size_t size_ = 0;
  std::string source_;
  std::size_t pos_ = 0;
};

FastTextArgs read_args(Cursor& in) {
  FastTextArgs a;
  const std::string what = "the arguments block";
  a.dim = in.read<std::int32_t>(what);
  a.ws = in.read<std::int32_t>(what);
  a.epoch = in.read<std::int32_t>(what);
  a.min_count = in.read<std::int32_t>(what);
  a.neg = in.read<std::int32_t>(what);
  a.word_ngrams = in.read<std::int32_t>(what);
  const auto loss = in.read<std::int32_t>(what);
  const auto model = in.read<std::int32_t>(what);
  a.bucket = in.read<std::int32_t>(what);
  a.minn = in.read<std::int32_t>(what);
  a.maxn = in.read<std::int32_t>(what);
  a.lr_update_rate = in.read<std::int32_t>(what);
  a.t = in.read<double>(what);
  if (loss < 1 || loss > 4) {
    in.fail("unknown loss " + std::to_string(loss) +
            " (fastText's are 1 hs, 2 ns, 3 softmax, 4 ova)");
  }
  if (model < 1 || model > 3) {
    in.fail("unknown model " + std::to_string(model) + " (fastText's are 1 cbow, 2 sg, 3 sup)");
  }
  a.loss = static_cast<FastTextLoss>(loss);
  a.model = static_cast<FastTextModelType>(model);
  if (a.dim < 1) in.fail("the arguments' dim is " + std::to_string(a.dim) + ", not at least 1");
  if (a.bucket < 0 || a.minn < 0 || a.maxn < 0 || a.word_ngrams < 0) {
    in.fail("the arguments hold a negative bucket, minn, maxn or wordNgrams");
  }
  // fastText hashes n-grams modulo bucket: a model that hashes needs buckets.
  if (a.bucket == 0 &&
      (a.maxn > 0 || (a.model == FastTextModelType::Supervised && a.word_ngrams > 1))) {
    in.fail("the arguments ask for character or word n-grams (maxn " + std::to_string(a.maxn) +
            ", wordNgrams " + std::to_string(a.word_ngrams) + ") but bucket is 0");
  }
  return a;
}

FastTextDictionary read_dictionary(Cursor& in, const FastTextArgs& args) {
  FastTextDictionary d;
  const std::string what = "the dictionary header";
  const auto size = in.read<std::int32_t>(what);
  const auto nwords = in.read<std::int32_t>(what);
  const auto nlabels = in.read<std::int32_t>(what);
  d.tokens = in.read<std::int64_t>(what);
  d.prune_index_size = in.read<std::int64_t>(what);
  if (size < 0 || nwords < 0 || nlabels < 0 ||
      static_cast<std::int64_t>(size) != static_cast<std::int64_t>(nwords) + nlabels) {
    in.fail("the dictionary says " + std::to_string(size) + " entries, " + std::to_string(nwords) +
            " words and " + std::to_string(nlabels) + " labels (entries must be words + labels)");
  }
  if (d.tokens < 0) in.fail("the dictionary's token count is negative");
  // An entry is at least a 1-byte text, its 0 byte, an int64 count and an int8 type.
  constexpr std::size_t kMinEntry = 1 + 1 + 8 + 1;
  if (static_cast<std::size_t>(size) > in.left() / kMinEntry) {
    in.too_large("the dictionary's entries", std::to_string(size) + " entries");
  }
  d.words.reserve(static_cast<std::size_t>(nwords));
  d.labels.reserve(static_cast<std::size_t>(nlabels));
  for (std::int32_t i = 0; i < size; ++i) {
    const std::string entry = "dictionary entry " + std::to_string(i);
    FastTextEntry e;
    e.text = in.read_cstring(entry);
    if (e.text.empty()) in.fail(entry + " is empty");
    e.count = in.read<std::int64_t>(entry + " ('" + e.text + "')");
    const auto type = in.read<std::int8_t>(entry + " ('" + e.text + "')");
    if (e.count < 0) in.fail(entry + " ('" + e.text + "') has a negative count");
    if (type != 0 && type != 1) {
      in.fail(entry + " ('" + e.text + "') has type " + std::to_string(type) +
              " (0 word, 1 label)");
    }
    // fastText sorts words before labels, and a label's id is its position minus nwords.
    const bool label = type == 1;
    if (label != (i >= nwords)) {
      in.fail(entry + " ('" + e.text + "') is a " + (label ? "label" : "word") +
              ", but the dictionary's first " + std::to_string(nwords) +
              " entries must be its words and the rest its labels");
    }
    (label ? d.labels : d.words).push_back(std::move(e));
  }
  if (d.prune_index_size < -1) in.fail("the dictionary's pruneidx_size is below -1");
  if (d.prune_index_size > 0) {
    if (static_cast<std::uint64_t>(d.prune_index_size) > in.left() / 8) {
      in.too_large("the pruned buckets", std::to_string(d.prune_index_size) + " pruned buckets");
    }
    d.prune_index.reserve(static_cast<std::size_t>(d.prune_index_size));
    for (std::int64_t i = 0; i < d.prune_index_size; ++i) {
      const std::string pair = "pruned bucket " + std::to_string(i);
      const auto bucket = in.read<std::int32_t>(pair);
      const auto row = in.read<std::int32_t>(pair);
      if (bucket < 0 || bucket >= args.bucket || row < 0 || row >= d.prune_index_size) {
        in.fail(pair + " maps bucket " + std::to_string(bucket) + " to row " + std::to_string(row) +
                ", outside " + std::to_string(args.bucket) + " buckets or " +
                std::to_string(d.prune_index_size) + " rows");
      }
      d.prune_index.emplace_back(bucket, row);
    }
  }
  return d;
}

// The matrix header (rows, cols) against what the rest of the file says it must be.
void check_shape(Cursor& in, const std::string& name, std::int64_t rows, std::int64_t cols,
                 std::int64_t expected_rows, std::int64_t dim) {
  if (rows != expected_rows || cols != dim) {
    in.fail("the " + name + " matrix is " + std::to_string(rows) + " x " + std::to_string(cols) +
            ", expected " + std::to_string(expected_rows) + " x " + std::to_string(dim));
  }
}

Tensor read_dense(Cursor& in, const std::string& name, std::int64_t expected_rows,
                  std::int64_t dim) {
  const std::string what = "the " + name + " matrix";
  const auto rows = in.read<std::int64_t>(what + "'s header");
  const auto cols = in.read<std::int64_t>(what + "'s header");
  check_shape(in, name, rows, cols, expected_rows, dim);
  // rows * cols * 4 bytes must be in the file before anything is allocated.
  const auto floats_left = static_cast<std::uint64_t>(in.left() / sizeof(float));
  if (rows > 0 &&
      static_cast<std::uint64_t>(cols) > floats_left / static_cast<std::uint64_t>(rows)) {
    in.too_large(what + "'s values",
                 std::to_string(rows) + " x " + std::to_string(cols) + " float32");
  }
  Tensor m = Tensor::empty({rows, cols});
  in.read_floats(m.data<float>(), static_cast<std::size_t>(rows * cols), what + "'s values");
  return m;
}

FastTextProductQuantizer read_quantizer(Cursor& in, const std::string& what,
                                        std::int64_t expected_dim) {
  FastTextProductQuantizer q;
  q.dim = in.read<std::int32_t>(what);
  q.nsubq = in.read<std::int32_t>(what);
  q.dsub = in.read<std::int32_t>(what);
  q.lastdsub = in.read<std::int32_t>(what);
  const bool consistent = q.dim == expected_dim && q.dsub >= 1 &&
                          q.nsubq == (q.dim + q.dsub - 1) / q.dsub &&
                          q.lastdsub == (q.dim % q.dsub == 0 ? q.dsub : q.dim % q.dsub);
  if (!consistent) {
    in.fail(what + " is inconsistent: dim " + std::to_string(q.dim) + " (expected " +
            std::to_string(expected_dim) + "), nsubq " + std::to_string(q.nsubq) + ", dsub " +
            std::to_string(q.dsub) + ", lastdsub " + std::to_string(q.lastdsub));
  }
  const auto count = static_cast<std::size_t>(q.dim) * kFastTextCentroids;
  if (count > in.left() / sizeof(float)) in.need(count * sizeof(float), what + "'s centroids");
  q.centroids.resize(count);
  in.read_floats(q.centroids.data(), count, what + "'s centroids");
  for (std::size_t i = 0; i < count; ++i) {
    if (!std::isfinite(q.centroids[i])) {
      in.fail(what + "'s centroid value " + std::to_string(i) + " is not finite");
    }
  }
  return q;
}

// fastText's QuantMatrix, kept as codes (FastTextQuantizedMatrix).
FastTextQuantizedMatrix read_quantized(Cursor& in, const std::string& name,
                                       std::int64_t expected_rows, std::int64_t dim) {
  const std::string what = "the quantized " + name + " matrix";
  FastTextQuantizedMatrix m;
  m.qnorm = in.read_bool(what + "'s qnorm flag");
  m.rows = in.read<std::int64_t>(what + "'s header");
  m.cols = in.read<std::int64_t>(what + "'s header");
  check_shape(in, name, m.rows, m.cols, expected_rows, dim);
  const auto codesize = in.read<std::int32_t>(what + "'s header");
  if (codesize < 0) in.fail(what + " has a negative code count");
  m.codes = in.take(static_cast<std::size_t>(codesize), what + "'s codes");
  m.pq = read_quantizer(in, what + "'s product quantizer", dim);
  if (static_cast<std::int64_t>(codesize) != m.rows * m.pq.nsubq) {
    in.fail(what + " has " + std::to_string(codesize) +
            " codes, expected rows x nsubq = " + std::to_string(m.rows * m.pq.nsubq));
  }
  if (m.qnorm) {
    m.norm_codes = in.take(static_cast<std::size_t>(m.rows), what + "'s norm codes");
    m.npq = read_quantizer(in, what + "'s norm quantizer", 1);
  }
  return m;
}

void check_finite(Cursor& in, const std::string& name, const Tensor& m) {
  const float* v = m.data<float>();
  const std::int64_t n = m.numel();
  for (std::int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) {
      const std::int64_t cols = m.size(1);
      throw IoError(in.source(), "the " + name + " matrix holds " +
                                     std::string(std::isnan(v[i]) ? "NaN" : "an infinity") +
                                     " at row " + std::to_string(i / cols) + ", column " +
                                     std::to_string(i % cols));
    }
  }
}

}  // namespace

std::string_view fasttext_model_type_name(FastTextModelType type) {
  switch (type) {
    case FastTextModelType::Cbow:
      return "cbow";
    case FastTextModelType::SkipGram:
      return "sg";
    case FastTextModelType::Supervised:
      return "sup";
  }
  return "unknown";
}

std::string_view fasttext_loss_name(FastTextLoss loss) {
  switch (loss) {
    case FastTextLoss::HierarchicalSoftmax:
      return "hs";
    case FastTextLoss::NegativeSampling:
      return "ns";
    case FastTextLoss::Softmax:
      return "softmax";
    case FastTextLoss::OneVsAll:
      return "ova";
  }
  return "unknown";
}

bool has_fasttext_magic(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 4) return false;
  std::int32_t magic;
  std::memcpy(&magic, bytes.data(), 4);
  return magic == kFastTextMagic;
}

bool file_has_fasttext_magic(const std::filesystem::path& path) {
  // Never a pipe: looking would consume what its reader needs.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream f(path, std::ios::binary);
  std::uint8_t head[4] = {};
  if (!f.read(reinterpret_cast<char*>(head), 4)) return false;
  return has_fasttext_magic(head);
}

namespace {

FastTextModelFile parse(Cursor& in) {
  FastTextModelFile f;
  const auto magic = in.read<std::int32_t>("the magic number");
  if (magic != kFastTextMagic) {
    in.fail("not a fastText model: the magic number is " + std::to_string(magic) + ", not " +
            std::to_string(kFastTextMagic));
  }
  f.version = in.read<std::int32_t>("the version");
  // fastText 0.9.2 reads versions up to 12; 11 (fastText 0.1) differs only in its supervised
  // models, which had no character n-grams whatever maxn says.
  if (f.version != 11 && f.version != kFastTextVersion) {
    in.fail("fastText model version " + std::to_string(f.version) +
            " is not supported (versions 11 and 12 are)");
  }
  f.args = read_args(in);
  if (f.version == 11 && f.args.model == FastTextModelType::Supervised) f.args.maxn = 0;
  f.dictionary = read_dictionary(in, f.args);
  if (f.args.model == FastTextModelType::Supervised && f.dictionary.labels.empty()) {
    in.fail("a supervised model without labels");
  }
  const auto& d = f.dictionary;
  const std::int64_t nwords = static_cast<std::int64_t>(d.words.size());
  const std::int64_t dim = f.args.dim;
  f.quantized_input = in.read_bool("the quantized-input flag");
  if (!f.quantized_input && d.prune_index_size >= 0) {
    // fastText refuses these too: pruned buckets only exist in quantized models.
    in.fail("the dictionary is pruned but the input matrix is not quantized");
  }
  const std::int64_t input_rows =
      nwords + (d.prune_index_size >= 0 ? d.prune_index_size : f.args.bucket);
  if (f.quantized_input) {
    f.input_codes = read_quantized(in, "input", input_rows, dim);
  } else {
    f.input = read_dense(in, "input", input_rows, dim);
  }
  f.quantized_output = in.read_bool("the quantized-output flag");
  if (f.quantized_output && !f.quantized_input) {
    in.fail("the output matrix is quantized but the input matrix is not");
  }
  const std::int64_t output_rows = f.args.model == FastTextModelType::Supervised
                                       ? static_cast<std::int64_t>(d.labels.size())
                                       : nwords;
  if (f.quantized_output) {
    f.output_codes = read_quantized(in, "output", output_rows, dim);
  } else {
    f.output = read_dense(in, "output", output_rows, dim);
  }
  if (in.left() != 0) {
    in.fail(std::to_string(in.left()) + " bytes follow the output matrix, the end of a model");
  }
  if (!f.quantized_input) check_finite(in, "input", f.input);
  if (!f.quantized_output) check_finite(in, "output", f.output);
  return f;
}

}  // namespace

FastTextModelFile parse_fasttext_model(std::span<const std::uint8_t> bytes,
                                       const std::string& source) {
  Cursor in(bytes, source);
  return parse(in);
}

FastTextModelFile load_fasttext_model(const std::filesystem::path& path) {
  const std::string source = path.string();
  if (detail::classify_input(path) != detail::InputKind::RegularFile) {
    return parse_fasttext_model(detail::read_file_bytes(path), source);  // a pipe, read whole
  }
  // A regular file is streamed: its matrices are read straight into their tensors.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  struct stat st {};
  if (!file || ::fstat(fileno(file.get()), &st) != 0) {
    throw IoError(source, std::string("cannot open: ") + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return parse_fasttext_model(detail::read_file_bytes(path), source);
  Cursor in(file.get(), static_cast<std::size_t>(st.st_size), source);
  return parse(in);
}

}  // namespace embedkit::io
