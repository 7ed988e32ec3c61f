// Reading the JSON files admins write by hand: every error names the file and, for syntax, the line and
// column, and a key repeated within one object is refused rather than silently won by its last copy.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "internal.hpp"

namespace sbx::site {

namespace fs = std::filesystem;
using detail::in_quotes;
using detail::Json;

namespace {

constexpr size_t kMaxDocumentBytes = 16u << 20;

std::string read_limited(const fs::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw DefinitionError(name + ": is a directory, not a JSON file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DefinitionError(name + ": cannot open: " + std::strerror(errno));
  std::string content;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    content.append(buffer, static_cast<size_t>(in.gcount()));
    if (content.size() > kMaxDocumentBytes) {
      throw DefinitionError(name + ": is larger than " + std::to_string(kMaxDocumentBytes >> 20) +
                            " MiB; that is no hand-written definitions file");
    }
  }
  if (in.bad()) throw DefinitionError(name + ": cannot read: " + std::strerror(errno));
  return content;
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 3, column 7: <problem>": the
// position is shown by us, so only the problem is kept.
std::string parse_problem(const std::string& what) {
  size_t column = what.find(", column ");
  if (column != std::string::npos) {
    size_t colon = what.find(": ", column);
    if (colon != std::string::npos) return what.substr(colon + 2);
  }
  size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

std::string position(const std::string& content, size_t byte) {
  // nlohmann counts the byte it stopped at from 1.
  size_t end = std::min(byte == 0 ? 0 : byte - 1, content.size());
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < end; ++i) {
    if (content[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(end - line_start + 1);
}

}  // namespace

nlohmann::json read_json_file(const fs::path& file) {
  const std::string name = file.string();
  const std::string content = read_limited(file);

  // Per open object: the keys seen so far, and the key under which it sits (for the message).
  struct Level {
    std::set<std::string> keys;
    std::string where;
  };
  std::vector<Level> levels;
  std::string last_key;
  Json::parser_callback_t refuse_repeats = [&](int, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        levels.push_back({{}, levels.empty() ? "the top-level object" : in_quotes(last_key)});
        break;
      case Json::parse_event_t::object_end:
        if (!levels.empty()) levels.pop_back();
        break;
      case Json::parse_event_t::key:
        last_key = parsed.get<std::string>();
        if (!levels.empty() && !levels.back().keys.insert(last_key).second) {
          throw DefinitionError(name + ": key " + in_quotes(last_key) + " appears twice in " +
                                levels.back().where);
        }
        break;
      default:
        break;
    }
    return true;
  };

  try {
    return Json::parse(content, refuse_repeats);
  } catch (const Json::parse_error& e) {
    throw DefinitionError(name + ": " + position(content, e.byte) + ": " + parse_problem(e.what()));
  } catch (const Json::exception& e) {
    throw DefinitionError(name + ": " + parse_problem(e.what()));
  }
}

}  // namespace sbx::site
