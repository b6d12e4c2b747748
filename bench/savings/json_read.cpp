#include "bench/savings/json_read.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "ops/check.h"

namespace graft::savings {

const JsonValue* JsonValue::find(const std::string& key) const {
  if (type_ != Type::object) return nullptr;
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &it->second;
}

std::optional<double> JsonValue::number_at(const std::string& key) const {
  const JsonValue* v = find(key);
  if (!v || !v->is_number()) return std::nullopt;
  return v->number();
}

std::optional<std::string> JsonValue::string_at(const std::string& key) const {
  const JsonValue* v = find(key);
  if (!v || !v->is_string()) return std::nullopt;
  return v->string();
}

std::optional<bool> JsonValue::bool_at(const std::string& key) const {
  const JsonValue* v = find(key);
  if (!v || v->type() != Type::boolean) return std::nullopt;
  return v->boolean();
}

JsonValue JsonValue::make_number(double v) {
  JsonValue j;
  j.type_ = Type::number;
  j.number_ = v;
  return j;
}
JsonValue JsonValue::make_bool(bool v) {
  JsonValue j;
  j.type_ = Type::boolean;
  j.boolean_ = v;
  return j;
}
JsonValue JsonValue::make_string(std::string v) {
  JsonValue j;
  j.type_ = Type::string;
  j.string_ = std::move(v);
  return j;
}
JsonValue JsonValue::make_array(std::vector<JsonValue> v) {
  JsonValue j;
  j.type_ = Type::array;
  j.array_ = std::move(v);
  return j;
}
JsonValue JsonValue::make_object(std::map<std::string, JsonValue> v) {
  JsonValue j;
  j.type_ = Type::object;
  j.object_ = std::move(v);
  return j;
}

namespace {

class Parser {
 public:
  Parser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  JsonValue document() {
    JsonValue v = value(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    int line = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i)
      line += text_[i] == '\n';
    throw InputError(source_ + ":" + std::to_string(line) + ": bad JSON: " + what);
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool take(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  void expect(char c) {
    skip_space();
    if (pos_ >= text_.size() || text_[pos_] != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  // Depth-limited so a hostile file cannot overflow the stack.
  JsonValue value(int depth) {
    if (depth > 64) fail("nested too deeply");
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end");
    const char c = text_[pos_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return JsonValue::make_string(string());
    if (take("null")) return JsonValue::make_null();
    if (take("true")) return JsonValue::make_bool(true);
    if (take("false")) return JsonValue::make_bool(false);
    return number();
  }

  JsonValue object(int depth) {
    ++pos_;
    std::map<std::string, JsonValue> members;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return JsonValue::make_object(std::move(members));
    }
    while (true) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a member name");
      std::string key = string();
      expect(':');
      members[key] = value(depth + 1);
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      return JsonValue::make_object(std::move(members));
    }
  }

  JsonValue array(int depth) {
    ++pos_;
    std::vector<JsonValue> items;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return JsonValue::make_array(std::move(items));
    }
    while (true) {
      items.push_back(value(depth + 1));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      expect(']');
      return JsonValue::make_array(std::move(items));
    }
  }

  static void append_utf8(std::string& out, unsigned cp) {
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

  unsigned hex4() {
    if (pos_ + 4 > text_.size()) fail("short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9')
        v |= h - '0';
      else if (h >= 'a' && h <= 'f')
        v |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F')
        v |= h - 'A' + 10;
      else
        fail("bad \\u escape");
    }
    return v;
  }

  std::string string() {
    ++pos_;  // the opening quote
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) fail("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail("unterminated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && take("\\u")) {
            const unsigned low = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail(std::string("bad escape \\") + e);
      }
    }
  }

  JsonValue number() {
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           std::string_view("+-0123456789.eE").find(text_[pos_]) != std::string_view::npos)
      ++pos_;
    if (pos_ == start) fail("unexpected character");
    const std::string digits(text_.substr(start, pos_ - start));
    char* end = nullptr;
    const double v = std::strtod(digits.c_str(), &end);
    if (end != digits.c_str() + digits.size()) fail("bad number '" + digits + "'");
    return JsonValue::make_number(v);
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GRAFT_INPUT_CHECK(in, "cannot open " << path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

JsonValue parse_json(std::string_view text, const std::string& source) {
  return Parser(text, source).document();
}

JsonValue read_json_file(const std::string& path) {
  return parse_json(read_text(path), path);
}

std::vector<JsonValue> read_jsonl(const std::string& path) {
  const std::string text = read_text(path);
  std::vector<JsonValue> out;
  size_t start = 0;
  int line = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    const bool complete = end != std::string::npos;
    if (!complete) end = text.size();
    ++line;
    const std::string_view row(text.data() + start, end - start);
    start = end + 1;
    if (row.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    try {
      out.push_back(parse_json(row, path + ":" + std::to_string(line)));
    } catch (const InputError&) {
      // A run killed mid-write leaves a partial last line without its
      // newline; what came before it is still a valid record of the run.
      if (complete) throw;
    }
  }
  return out;
}

}  // namespace graft::savings
