// Robustness of the reader against damaged files: every truncation, random byte flips and
// random header edits give a clean IoError or a valid load, never a crash, a hang, an
// out-of-bounds read or a huge allocation (run these under ASan/UBSan too:
// -DEMBEDKIT_SANITIZE=ON). Seeded, so a failure is reproducible; the failing input is printed.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "embedkit/io/safetensors.hpp"
#include "io/test_support.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::DType;
using embedkit::IoError;
using embedkit::NamedTensors;
using embedkit::Tensor;

std::vector<std::uint8_t> small_valid_file() {
  const NamedTensors tensors = {
      {"embedding.weight", Tensor::from_floats({0.5f, -1.0f, 2.0f, 4.0f, 8.0f, 16.0f}, {3, 2})},
      {"optimizer.embedding.weight.step", Tensor::scalar<std::int64_t>(3)},
      {"h", Tensor::from_floats({1.0f, 2.0f}, {2}, DType::Float16)},
      {"e", Tensor::zeros({0})},
  };
  return embedkit::io::serialize_safetensors(tensors, {{"format", "pt"}});
}

std::uint64_t header_length(const std::vector<std::uint8_t>& bytes) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[static_cast<std::size_t>(i)];
  return n;
}

std::string hex(const std::vector<std::uint8_t>& bytes) {
  std::string s;
  char b[4];
  for (const std::uint8_t c : bytes) {
    std::snprintf(b, sizeof b, "%02x", c);
    s += b;
  }
  return s;
}

// Parses; returns true on success, false on IoError; anything else fails the test. A success
// must be self-consistent.
bool parses_cleanly(const std::vector<std::uint8_t>& bytes) {
  try {
    const auto contents = embedkit::io::parse_safetensors(bytes, "fuzz.safetensors");
    std::size_t total = 0;
    for (const auto& [name, t] : contents.tensors) total += t.nbytes();
    EXPECT_LE(total, bytes.size()) << hex(bytes);
    return true;
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("fuzz.safetensors: ", 0), 0u) << e.what();
    return false;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an IoError: " << e.what() << "\ninput: " << hex(bytes);
    return false;
  }
}

TEST(SafetensorsFuzz, EveryTruncationIsACleanError) {
  const auto valid = small_valid_file();
  ASSERT_TRUE(parses_cleanly(valid));
  for (std::size_t length = 0; length < valid.size(); ++length) {
    const std::vector<std::uint8_t> cut(valid.begin(),
                                        valid.begin() + static_cast<std::ptrdiff_t>(length));
    EXPECT_FALSE(parses_cleanly(cut)) << "a file cut to " << length << " bytes loaded";
  }
}

TEST(SafetensorsFuzz, EveryTruncatedFileIsACleanError) {
  // The same through the file reader (pread, sizes from fstat).
  embedkit_test::TempDir dir;
  const auto path = dir / "cut.safetensors";
  const auto valid = small_valid_file();
  for (std::size_t length = 0; length < valid.size(); ++length) {
    embedkit_io_test::write_bytes(
        path, std::vector<std::uint8_t>(valid.begin(),
                                        valid.begin() + static_cast<std::ptrdiff_t>(length)));
    const std::string m =
        embedkit_io_test::message_of<IoError>([&] { embedkit::io::load_safetensors(path); });
    EXPECT_EQ(m.rfind(path.string() + ": ", 0), 0u) << m;
  }
}

TEST(SafetensorsFuzz, AppendedBytesAreACleanError) {
  auto longer = small_valid_file();
  longer.push_back(0);
  EXPECT_FALSE(parses_cleanly(longer));
}

TEST(SafetensorsFuzz, RandomByteFlipsInTheHeader) {
  const auto valid = small_valid_file();
  const std::size_t header_end = 8 + header_length(valid);
  std::mt19937_64 rng(20240611);
  int loaded = 0;
  constexpr int kTrials = 20000;
  for (int trial = 0; trial < kTrials; ++trial) {
    auto bytes = valid;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      const std::size_t at = rng() % header_end;
      if (rng() % 2) {
        bytes[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8));  // one bit
      } else {
        bytes[at] = static_cast<std::uint8_t>(rng());  // a whole byte
      }
    }
    loaded += parses_cleanly(bytes) ? 1 : 0;
  }
  // Some flips land in names, metadata or padding and still make a valid file.
  std::printf("random header flips: %d of %d still valid\n", loaded, kTrials);
  EXPECT_GT(loaded, 0);
  EXPECT_LT(loaded, kTrials);
}

TEST(SafetensorsFuzz, RandomHeaderEditsWithAConsistentLength) {
  // Insertions, deletions and swaps of JSON-ish characters, with the length prefix fixed up so
  // the JSON parser (not the length check) meets the damage.
  const auto valid = small_valid_file();
  const std::size_t n = header_length(valid);
  const std::string header(valid.begin() + 8, valid.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  const std::vector<std::uint8_t> buffer(valid.begin() + 8 + static_cast<std::ptrdiff_t>(n),
                                         valid.end());
  static constexpr char kAlphabet[] = "{}[]:,\"\\ 0123456789-.eEuF3I6BUtrfaln\x01\x7f\xc3\xa9\xff";
  std::mt19937_64 rng(7);
  constexpr int kTrials = 20000;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::string edited = header;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !edited.empty(); ++e) {
      const std::size_t at = rng() % edited.size();
      switch (rng() % 4) {
        case 0:
          edited.erase(at, 1);
          break;
        case 1:
          edited.insert(at, 1, kAlphabet[rng() % (sizeof kAlphabet - 1)]);
          break;
        case 2:
          edited[at] = kAlphabet[rng() % (sizeof kAlphabet - 1)];
          break;
        default: {  // duplicate a slice (repeats keys, brackets, numbers)
          const std::size_t len = std::min<std::size_t>(1 + rng() % 24, edited.size() - at);
          edited.insert(at, edited.substr(at, len));
        }
      }
    }
    parses_cleanly(embedkit_io_test::make_safetensors(edited, buffer));
  }
}

TEST(SafetensorsFuzz, RandomLengthPrefixes) {
  const auto valid = small_valid_file();
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 2000; ++trial) {
    auto bytes = valid;
    const std::uint64_t length = trial < 1000 ? rng() : rng() % (bytes.size() + 16);
    for (int i = 0; i < 8; ++i)
      bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(length >> (8 * i));
    parses_cleanly(bytes);
  }
}

TEST(SafetensorsFuzz, DeeplyNestedJsonDoesNotRecurse) {
  // The reader follows the expected shape, so nesting is an error at the first bracket, not a
  // stack overflow.
  const std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_FALSE(parses_cleanly(embedkit_io_test::make_safetensors(deep)));
}

}  // namespace
