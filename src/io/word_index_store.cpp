// The word index of a verified pair, stored beside the vocabulary (word_index_store.hpp).
#include "io/word_index_store.hpp"

#include <bit>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <string_view>
#include <utility>

// Header-only, as in pair_identity.cpp (CMakeLists.txt says why).
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "embedkit/io/atomic_file.hpp"
#include "io/pair_verification.hpp"

namespace embedkit::io::detail {
namespace {

// A header is one line of about 450 bytes, padded to fewer than 512; a longer first line is not
// one.
constexpr std::size_t kMaxHeaderBytes = 1024;

// The key whose hash the header records: a build whose KeyIndex hashes it otherwise would
// place keys elsewhere, and must not take the table.
constexpr std::string_view kHashProbe = "embedkit-word-index";

// The header up to and including "words=": everything the reader knows before it reads the body.
std::string header_prefix(const WordIndexOwner& owner) {
  char line[768];
  const FileStamp& v = owner.vocabulary;
  const FileStamp& m = owner.matrix;
  std::snprintf(
      line, sizeof line,
      "embedkit-word-index format=2 endian=%s slot-bytes=%zu key-hash=%016" PRIx64
      " vocabulary-xxh64=%016" PRIx64 " vocabulary-device=%" PRIu64 " vocabulary-inode=%" PRIu64
      " vocabulary-size=%" PRIu64 " vocabulary-mtime-ns=%" PRId64 " vocabulary-ctime-ns=%" PRId64
      " matrix-bytes=%" PRIu64 " matrix-xxh64=%016" PRIx64 " device=%" PRIu64 " inode=%" PRIu64
      " size=%" PRIu64 " mtime-ns=%" PRId64 " ctime-ns=%" PRId64 " words=",
      std::endian::native == std::endian::little ? "little" : "big", sizeof(KeyIndex::Slot),
      static_cast<std::uint64_t>(KeyIndex::hash(kHashProbe)), owner.vocabulary_xxh64, v.device,
      v.inode, v.size, v.mtime_ns, v.ctime_ns, owner.pair.bytes, owner.pair.xxh64, m.device,
      m.inode, m.size, m.mtime_ns, m.ctime_ns);
  return line;
}

std::uint64_t body_xxh64(std::span<const KeyIndex::Slot> slots, std::span<const float> norms) {
  XXH64_state_t state;
  XXH64_reset(&state, 0);
  XXH64_update(&state, slots.data(), slots.size_bytes());
  XXH64_update(&state, norms.data(), norms.size_bytes());
  return XXH64_digest(&state);
}

// A decimal count at the start of `text`, up to `end`; false unless all of it is one.
bool take_count(std::string_view& text, char end, std::uint64_t& value) {
  const std::size_t stop = text.find(end);
  if (stop == std::string_view::npos) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + stop, value);
  if (ec != std::errc() || ptr != text.data() + stop) return false;
  text.remove_prefix(stop + 1);
  return true;
}

bool take(std::string_view& text, std::string_view literal) {
  if (!text.starts_with(literal)) return false;
  text.remove_prefix(literal.size());
  return true;
}

}  // namespace

std::filesystem::path word_index_path(const std::filesystem::path& vocabulary) {
  std::filesystem::path path = vocabulary;
  path += ".wordindex";
  return path;
}

std::uint64_t vocabulary_xxh64(std::span<const std::uint8_t> bytes) {
  return static_cast<std::uint64_t>(XXH64(bytes.data(), bytes.size(), 0));
}

std::string word_index_header(const WordIndexOwner& owner, std::int64_t words, std::size_t slots,
                              bool norms, std::uint64_t body_xxh64) {
  char tail[128];
  std::snprintf(tail, sizeof tail, "%" PRId64 " slots=%zu norms=%d body-xxh64=%016" PRIx64, words,
                slots, norms ? 1 : 0, body_xxh64);
  std::string line = header_prefix(owner) + tail;
  const std::size_t padded = (line.size() + 1 + kWordIndexBodyAlignment - 1) /
                             kWordIndexBodyAlignment * kWordIndexBodyAlignment;
  line.resize(padded - 1, ' ');
  line += '\n';
  return line;
}

std::optional<StoredWordIndex> load_word_index(const std::filesystem::path& path,
                                               const WordIndexOwner& owner) noexcept {
  try {
    // Mapped (refused unless a regular file; a FIFO does not block), and used where it lies.
    std::shared_ptr<const MappedFile> file = MappedFile::open(path, MapMode::ReadOnly);
    const std::uint64_t file_size = file->size();
    if (file->data() == nullptr) return std::nullopt;
    const std::string_view first(
        reinterpret_cast<const char*>(file->data()),
        static_cast<std::size_t>(std::min<std::uint64_t>(file_size, kMaxHeaderBytes)));
    const std::size_t newline = first.find('\n');
    if (newline == std::string_view::npos) return std::nullopt;
    const std::string_view line = first.substr(0, newline + 1);
    const std::string prefix = header_prefix(owner);
    std::string_view rest = line;
    if (!take(rest, prefix)) return std::nullopt;
    // The body's counts: parsed, then the whole line must be what word_index_header writes for
    // them (so no other spelling of the same numbers passes).
    std::uint64_t words = 0;
    std::uint64_t slots = 0;
    std::uint64_t norms = 0;
    if (!take_count(rest, ' ', words) || !take(rest, "slots=") || !take_count(rest, ' ', slots) ||
        !take(rest, "norms=") || !take_count(rest, ' ', norms) || norms > 1 ||
        !take(rest, "body-xxh64=") || rest.size() < 17) {
      return std::nullopt;
    }
    std::uint64_t stored_xxh64 = 0;
    const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + 16, stored_xxh64, 16);
    if (ec != std::errc() || ptr != rest.data() + 16) return std::nullopt;
    // The sizes, bounded by the file's before anything is allocated.
    if (words > file_size || slots > file_size / sizeof(KeyIndex::Slot)) return std::nullopt;
    const std::uint64_t slot_bytes = slots * sizeof(KeyIndex::Slot);
    const std::uint64_t norm_bytes = norms == 1 ? words * sizeof(float) : 0;
    if (file_size != line.size() + slot_bytes + norm_bytes) return std::nullopt;
    if (line != word_index_header(owner, static_cast<std::int64_t>(words),
                                  static_cast<std::size_t>(slots), norms == 1, stored_xxh64)) {
      return std::nullopt;
    }
    // The header is what word_index_header writes, so the body starts at a multiple of
    // kWordIndexBodyAlignment from the page-aligned mapping.
    const std::uint8_t* body = file->data() + line.size();
    StoredWordIndex stored;
    stored.words = static_cast<std::int64_t>(words);
    stored.slots = {reinterpret_cast<const KeyIndex::Slot*>(body), static_cast<std::size_t>(slots)};
    stored.inverse_norms = {reinterpret_cast<const float*>(body + slot_bytes),
                            static_cast<std::size_t>(norm_bytes / sizeof(float))};
    if (body_xxh64(stored.slots, stored.inverse_norms) != stored_xxh64) return std::nullopt;
    stored.file = std::move(file);
    return stored;
  } catch (...) {
    return std::nullopt;
  }
}

bool record_word_index(const std::filesystem::path& path, const std::filesystem::path& vocabulary,
                       const std::filesystem::path& matrix, const WordIndexOwner& owner,
                       const KeyIndex& index, const float* rows, std::int64_t dim,
                       RowInverseNorms inverse_norms, std::vector<float>& norms) noexcept {
  try {
    if (!settled_and_unchanged(vocabulary, owner.vocabulary) ||
        !settled_and_unchanged(matrix, owner.matrix)) {
      return false;
    }
    // Made first: where it cannot be (a read-only directory), the norms are not computed.
    AtomicFile out(path);
    std::vector<float> inverse;
    if (inverse_norms != nullptr) {
      inverse.resize(static_cast<std::size_t>(index.size()));
      if (!inverse_norms(rows, index.size(), dim, inverse.data())) {
        inverse.clear();  // a non-finite value: the queries will say so, as without the store
      }
    }
    const std::span<const KeyIndex::Slot> slots = index.slots();
    const std::string header = word_index_header(owner, index.size(), slots.size(),
                                                 !inverse.empty(), body_xxh64(slots, inverse));
    out.write(header.data(), header.size());
    out.write(slots.data(), slots.size_bytes());
    out.write(inverse.data(), inverse.size() * sizeof(float));
    // Changed while the norms were computed: they may describe neither version.
    if (!settled_and_unchanged(vocabulary, owner.vocabulary) ||
        !settled_and_unchanged(matrix, owner.matrix)) {
      return false;
    }
    out.commit();
    norms = std::move(inverse);
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace embedkit::io::detail
