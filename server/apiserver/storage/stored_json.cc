#include "server/apiserver/storage/stored_json.h"

namespace kite::apiserver {

namespace {

// boost::json's default max_depth is 32; staying below it keeps "accepted here" a subset of
// "parses there".
constexpr int kMaxDepth = 30;
constexpr int kMaxDigits = 18;  // always an int64; longer integers may be uint64 or double

// Where a member's value sits, so the scanner knows which members to note.
enum class Place { kOther, kTop, kMetadata };

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool Document() {
    if (i_ >= s_.size() || s_[i_] != '{') return false;
    if (!Object(1, Place::kTop)) return false;
    return i_ == s_.size();
  }

  StoredObjectScan scan;

 private:
  bool Value(int depth, Place place) {
    if (i_ >= s_.size()) return false;
    switch (s_[i_]) {
      case '{': return Object(depth + 1, place);
      case '[': return Array(depth + 1);
      case '"': return String(nullptr);
      case 't': return Literal("true");
      case 'f': return Literal("false");
      case 'n': return Literal("null");
      default: return Number();
    }
  }

  // At the opening '{' or '['. Reads items with `item` (which must consume exactly one) separated
  // by ',' up to `close`.
  template <typename Item>
  bool Sequence(int depth, char close, Item&& item) {
    if (depth > kMaxDepth) return false;
    ++i_;
    if (i_ < s_.size() && s_[i_] == close) {
      ++i_;
      return true;
    }
    for (;;) {
      if (!item()) return false;
      if (i_ >= s_.size()) return false;
      if (s_[i_] == close) {
        ++i_;
        return true;
      }
      if (s_[i_] != ',') return false;
      ++i_;
    }
  }

  // At '{'. `place` is where this object sits: kTop for the document, kMetadata for its metadata.
  bool Object(int depth, Place place) {
    return Sequence(depth, '}', [&] {
      std::string_view key;
      if (i_ >= s_.size() || s_[i_] != '"' || !String(&key)) return false;
      if (i_ >= s_.size() || s_[i_] != ':') return false;
      ++i_;
      const size_t begin = i_;
      Place child = Place::kOther;
      if (place == Place::kTop && key == "metadata") {
        if (scan.meta_begin != StoredObjectScan::npos) return false;  // a second one
        child = Place::kMetadata;
      }
      if (!Value(depth, child)) return false;
      if (place == Place::kTop && key == "metadata") {
        if (s_[begin] != '{') return false;  // not an object: let the decoder deal with it
        scan.meta_begin = begin;
        scan.meta_end = i_;
      } else if (place == Place::kMetadata && key == "resourceVersion") {
        if (scan.rv_begin != StoredObjectScan::npos) return false;
        scan.rv_begin = begin;
        scan.rv_end = i_;
      } else if (place == Place::kMetadata && key == "labels") {
        if (scan.labels_begin != StoredObjectScan::npos) return false;
        scan.labels_begin = begin;
        scan.labels_end = i_;
      }
      return true;
    });
  }

  bool Array(int depth) {
    return Sequence(depth, ']', [&] { return Value(depth, Place::kOther); });
  }

  // At '"'. `raw` gets the text between the quotes (escapes left as they are).
  bool String(std::string_view* raw) {
    const size_t begin = ++i_;
    for (; i_ < s_.size(); ++i_) {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        if (raw) *raw = s_.substr(begin, i_ - begin);
        ++i_;
        return true;
      }
      if (c < 0x20 || c >= 0x7f) return false;  // control characters are invalid; non-ASCII: decode
      if (c == '\\') {
        if (++i_ >= s_.size()) return false;
        switch (s_[i_]) {
          case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't': break;
          default: return false;  // \u and \/ are valid JSON, but not what the encoder writes
        }
      }
    }
    return false;
  }

  bool Literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  // Integers only: -?(0|[1-9][0-9]*), at most kMaxDigits digits.
  bool Number() {
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    const size_t begin = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    const size_t digits = i_ - begin;
    if (digits == 0 || digits > kMaxDigits || (digits > 1 && s_[begin] == '0')) return false;
    // A fraction or exponent follows: valid JSON, but left to the decoder.
    return i_ >= s_.size() || (s_[i_] != '.' && s_[i_] != 'e' && s_[i_] != 'E');
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<StoredObjectScan> ScanStoredObject(std::string_view text) {
  Scanner s(text);
  if (!s.Document()) return std::nullopt;
  return s.scan;
}

std::optional<TextSplice> ResourceVersionSplice(const StoredObjectScan& scan, int64_t rv) {
  if (scan.meta_begin == StoredObjectScan::npos) return std::nullopt;
  const std::string value = "\"" + std::to_string(rv) + "\"";
  if (scan.rv_begin != StoredObjectScan::npos) return TextSplice{scan.rv_begin, scan.rv_end, value};
  // A new member goes last: before metadata's closing brace.
  const size_t close = scan.meta_end - 1;
  const bool empty = close == scan.meta_begin + 1;
  return TextSplice{close, close, (empty ? "\"resourceVersion\":" : ",\"resourceVersion\":") + value};
}

std::optional<std::string> WithResourceVersion(std::string_view text, const StoredObjectScan& scan, int64_t rv) {
  auto splice = ResourceVersionSplice(scan, rv);
  if (!splice) return std::nullopt;
  std::string out;
  out.reserve(text.size() - (splice->end - splice->begin) + splice->insert.size());
  out.append(text.substr(0, splice->begin)).append(splice->insert).append(text.substr(splice->end));
  return out;
}

std::string_view LabelsText(std::string_view text, const StoredObjectScan& scan) {
  if (scan.labels_begin == StoredObjectScan::npos) return {};
  return text.substr(scan.labels_begin, scan.labels_end - scan.labels_begin);
}

}  // namespace kite::apiserver
