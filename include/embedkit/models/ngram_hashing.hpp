// Word n-grams hashed into a fixed number of buckets, as fastText does (Joulin et al. 2016,
// "Bag of Tricks for Efficient Text Classification"): a classifier's input is its words' ids plus
// one id per n-gram of consecutive words, n = 2 .. max_n, each n-gram mapped to
// offset + hash % buckets. Distinct n-grams may share a bucket (the "hashing trick"); the table
// stays buckets rows large whatever the corpus.
//
// The hashes are fastText's, so that the same text lands in the same buckets:
//   word hash: 32-bit FNV-1a over the word's bytes, each byte sign-extended first (fastText
//              reads them as char, which is signed on x86);
//   n-gram:    h = hash(w_i); for each following word j: h = h * 116049371 + hash(w_j) in
//              unsigned 64-bit arithmetic with each word hash sign-extended from 32 bits (fastText
//              stores them as int32), and the n-gram w_i..w_j gets bucket h % buckets.
// Words outside the vocabulary still take part in n-grams (only their own id is dropped).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace embedkit::models {

std::uint32_t word_hash(std::string_view word);

// Appends, for each start position i and each n in 2..max_n with i + n <= hashes.size(), the id
// offset + (n-gram hash % buckets), in the order (i ascending, then n ascending). Nothing when
// max_n < 2 or buckets == 0. ValueError for negative buckets or offset.
void append_word_ngrams(std::span<const std::uint32_t> hashes, std::int64_t max_n,
                        std::int64_t buckets, std::int64_t offset, std::vector<std::int64_t>& out);

// fastText's character n-grams (Bojanowski et al. 2017, "Enriching Word Vectors with Subword
// Information") of `wrapped`, a word already wrapped in its boundaries "<" and ">": for each
// start byte that is not a UTF-8 continuation byte, the n-grams of n = minn .. maxn characters
// (a character is a UTF-8 sequence, kept whole; an n-gram stops at the end of the word), except
// the single characters "<" and ">" themselves. Each is appended as word_hash(n-gram) % buckets
// (no offset), in fastText's order: start ascending, then n ascending. Nothing when maxn < 1;
// ValueError when buckets < 1 and maxn >= 1, or minn or maxn is negative.
void append_char_ngram_buckets(std::string_view wrapped, std::int64_t minn, std::int64_t maxn,
                               std::int64_t buckets, std::vector<std::int64_t>& out);

}  // namespace embedkit::models
