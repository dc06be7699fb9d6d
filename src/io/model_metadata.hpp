// The metadata of every model file embedkit writes (the text classifier, the recommender, training
// checkpoints), written and read one way: what marks a file as one kind of model and which
// layout version it holds, how each value is spelled as a string, and the typed reading back.
//
// A model file is a safetensors file whose "__metadata__" (strings only) carries a format mark:
// a version key whose value is the layout version, and for some kinds a kind key naming the
// kind. Every load checks the mark first, through check_model_format (as fastText checks every
// model file through one signature check), and refuses a file of another kind or of another
// layout version before reading anything else from it.
//
// Values are spelled:
//   whole numbers   decimal, as std::to_string writes them;
//   real numbers    the shortest text that reads back to the same double (core/float_text.hpp);
//   flags           "1" or "0";
//   escaped lists   any strings, joined with newlines, each byte that is '%', a control byte or
//                   not ASCII written as %XX (uppercase hex): safe for the UTF-8-only metadata;
//   lines           strings without a newline, joined with newlines, bytes as they are (the
//                   recommender's ids: its files were written this way from the start).
//
// Reading: ModelMetadataReader's getters refuse a missing key or a value that is not of its type
// with an IoError that names the file and the key:
//   "PATH: not an embedkit text classifier: metadata 'dim' is missing"
//   "PATH: not an embedkit text classifier: metadata 'dim' is not a whole number from
//    -9223372036854775808 to 9223372036854775807: 'x'"
// Values are shown as detail::display_name shows them (quoted, control bytes as \xNN, cut after
// 120 bytes): the file may be hostile.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "embedkit/core/error.hpp"
#include "embedkit/io/safetensors.hpp"

namespace embedkit::io::detail {

// What marks a file as one kind of model and which layout version it holds. A layout that
// readers of the previous version would misread gets a new version.
struct ModelFormat {
  // The kind in messages: "text classifier" ("not an embedkit text classifier: ...").
  std::string_view kind;
  // The key whose value is the layout version, and the version this build writes and reads.
  std::string_view version_key;
  std::string_view version;
  // A key naming the kind and its value (the classifier's "embedkit.model" = "text_classifier");
  // empty when the version key alone marks the kind.
  std::string_view kind_key = {};
  std::string_view kind_value = {};
  // Whether a file without the version key is accepted (a checkpoint written by PyTorch's
  // safetensors.torch.save_file has none); the kind key is then not required either.
  bool version_optional = false;
};

// Adds the format's mark (version key, and kind key if any) to `metadata`.
void mark_model_format(Metadata& metadata, const ModelFormat& format);

// IoError naming `file` unless `metadata` carries the format's mark:
//   "not an embedkit KIND: metadata 'KEY' is missing"
//   "not an embedkit KIND: metadata 'KEY' is 'VALUE'"              (a kind key naming another)
//   "KIND layout version 'V' is not the one this embedkit reads ('1'); written by a newer
//    embedkit?"
void check_model_format(const std::string& file, const Metadata& metadata,
                        const ModelFormat& format);

// The metadata of a model file being saved: starts with the format's mark; one setter per
// spelling (see the top of this file).
class ModelMetadataWriter {
 public:
  explicit ModelMetadataWriter(const ModelFormat& format);

  void set_text(std::string_view key, std::string value);
  void set_int(std::string_view key, std::int64_t value);
  void set_uint(std::string_view key, std::uint64_t value);
  void set_number(std::string_view key, double value);
  void set_flag(std::string_view key, bool value);
  void set_escaped_list(std::string_view key, const std::vector<std::string>& values);
  // ValueError ("KIND: not saved: metadata 'KEY' cannot hold 'VALUE': it contains a newline")
  // for a value holding a newline.
  void set_lines(std::string_view key, const std::vector<std::string>& values);

  const Metadata& metadata() const { return metadata_; }

 private:
  ModelFormat format_;
  Metadata metadata_;
};

// The metadata of a model file being loaded, its format mark checked on construction.
class ModelMetadataReader {
 public:
  // IoError (check_model_format) when the metadata does not carry the format's mark.
  ModelMetadataReader(std::string file, Metadata metadata, const ModelFormat& format);

  // The value as stored.
  const std::string& text(std::string_view key) const;
  std::int64_t int64(std::string_view key) const;
  std::uint64_t uint64(std::string_view key) const;
  // Finite numbers only.
  double number(std::string_view key) const;
  bool flag(std::string_view key) const;
  std::vector<std::string> escaped_list(std::string_view key) const;
  std::vector<std::string> lines(std::string_view key) const;

  // "PATH: not an embedkit KIND: <what>", for the loader's own checks of what it read.
  IoError error(const std::string& what) const;
  const std::string& file() const { return file_; }

 private:
  // "metadata 'KEY' is not <what>: 'TEXT'"
  [[noreturn]] void fail_value(std::string_view key, const std::string& what) const;
  template <class Int>
  Int whole_number(std::string_view key) const;

  std::string file_;
  Metadata metadata_;
  ModelFormat format_;
};

}  // namespace embedkit::io::detail
