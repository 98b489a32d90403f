#include "agent/v0_json.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ohfed::agent::v0 {
namespace {

constexpr int kMaxDepth = 16;

class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::StatusOr<Json> Document() {
    Json j;
    if (!Value(j, 0)) return Error();
    SkipSpace();
    if (pos_ != text_.size()) return Error();
    return j;
  }

 private:
  absl::Status Error() const {
    return absl::DataLossError(
        absl::StrCat("malformed JSON at byte ", pos_, " of ", text_.size()));
  }
  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Word(absl::string_view w) {
    if (text_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }

  bool Value(Json& j, int depth) {
    if (depth > kMaxDepth) return false;
    SkipSpace();
    if (pos_ >= text_.size()) return false;
    char c = text_[pos_];
    if (c == '"') {
      j.type = Json::Type::kString;
      return String(j.text);
    }
    if (c == '[') return Array(j, depth);
    if (c == '{') return Object(j, depth);
    if (Word("true")) return j.type = Json::Type::kBool, j.boolean = true, true;
    if (Word("false")) return j.type = Json::Type::kBool, true;
    if (Word("null")) return j.type = Json::Type::kNull, true;
    return Number(j);
  }

  bool Number(Json& j) {
    size_t start = pos_;
    while (pos_ < text_.size() &&
           (absl::ascii_isdigit(text_[pos_]) || text_[pos_] == '-' ||
            text_[pos_] == '+' || text_[pos_] == '.' || text_[pos_] == 'e' ||
            text_[pos_] == 'E')) {
      ++pos_;
    }
    if (pos_ == start) return false;
    j.type = Json::Type::kNumber;
    j.text = std::string(text_.substr(start, pos_ - start));
    return true;
  }

  bool Hex4(uint32_t& out) {
    if (pos_ + 4 > text_.size()) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= c - '0';
      else if (c >= 'a' && c <= 'f')
        out |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        out |= c - 'A' + 10;
      else
        return false;
    }
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool Escape(std::string& out) {
    if (pos_ >= text_.size()) return false;
    char c = text_[pos_++];
    switch (c) {
      case '"':
        out += '"';
        return true;
      case '\\':
        out += '\\';
        return true;
      case '/':
        out += '/';
        return true;
      case 'b':
        out += '\b';
        return true;
      case 'f':
        out += '\f';
        return true;
      case 'n':
        out += '\n';
        return true;
      case 'r':
        out += '\r';
        return true;
      case 't':
        out += '\t';
        return true;
      case 'u':
        break;
      default:
        return false;
    }
    uint32_t cp = 0;
    if (!Hex4(cp)) return false;
    if (cp >= 0xD800 && cp < 0xDC00) {  // a surrogate pair
      uint32_t low = 0;
      if (!Word("\\u") || !Hex4(low) || low < 0xDC00 || low > 0xDFFF) {
        return false;
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return false;
    }
    AppendUtf8(cp, out);
    return true;
  }

  bool String(std::string& out) {
    ++pos_;  // the opening quote
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (!Escape(out)) return false;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return false;
      } else {
        out += c;
      }
    }
    return false;
  }

  bool Array(Json& j, int depth) {
    ++pos_;
    j.type = Json::Type::kArray;
    if (Eat(']')) return true;
    do {
      j.items.emplace_back();
      if (!Value(j.items.back(), depth + 1)) return false;
    } while (Eat(','));
    return Eat(']');
  }

  bool Object(Json& j, int depth) {
    ++pos_;
    j.type = Json::Type::kObject;
    if (Eat('}')) return true;
    do {
      SkipSpace();
      std::string key;
      if (pos_ >= text_.size() || text_[pos_] != '"' || !String(key) ||
          !Eat(':')) {
        return false;
      }
      if (!Value(j.members[key], depth + 1)) return false;
    } while (Eat(','));
    return Eat('}');
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

absl::Status WrongType(absl::string_view want) {
  return absl::DataLossError(absl::StrCat("expected ", want, " in JSON"));
}

}  // namespace

absl::StatusOr<Json> ParseJson(absl::string_view text) {
  return Parser(text).Document();
}

absl::StatusOr<std::string> AsString(const Json& j) {
  if (j.type != Json::Type::kString) return WrongType("a string");
  return j.text;
}

absl::StatusOr<double> AsDouble(const Json& j) {
  double d = 0;
  if (j.type != Json::Type::kNumber || !absl::SimpleAtod(j.text, &d) ||
      !std::isfinite(d)) {
    return WrongType("a number");
  }
  return d;
}

absl::StatusOr<int64_t> AsInt(const Json& j) {
  int64_t v = 0;
  if (j.type != Json::Type::kNumber || !absl::SimpleAtoi(j.text, &v)) {
    return WrongType("an integer");
  }
  return v;
}

absl::StatusOr<uint64_t> AsUint(const Json& j) {
  uint64_t v = 0;
  if (j.type != Json::Type::kNumber || !absl::SimpleAtoi(j.text, &v)) {
    return WrongType("an unsigned integer");
  }
  return v;
}

}  // namespace ohfed::agent::v0
