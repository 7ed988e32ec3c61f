// The three renderings: aligned text for people, JSON lines and RFC 4180 CSV for programs.
#include <sstream>

#include "reports_test_util.hpp"

namespace sbx::reports {
namespace {

using Json = nlohmann::json;

Table sample() {
  Table table;
  table.title = "sample";
  table.columns = {"name", "stored_bytes", "age_s", "ok", "note"};
  table.rows.push_back({"home", 1536, 93784.0, true, "plain"});
  table.rows.push_back({"k\u00f6ln", nullptr, 75, false, "comma, \"quote\"\nand newline"});
  table.rows.push_back({Json::array({"/a b", "/c"}), 0, 0.25, nullptr, "cr\rhere"});
  table.summary = {{"rows", 3}, {"stored_bytes", 1536}};
  return table;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) result.push_back(line);
  return result;
}

TEST(ReportRender, TextAlignsColumnsAndMakesValuesReadable) {
  auto out = lines(render_text(sample()));
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(out[0], "NAME      STORED_BYTES  AGE     OK   NOTE");
  EXPECT_EQ(out[1], "home      1.5 KiB       1d2h3m  yes  plain");
  // Alignment counts characters, not bytes (\u00f6 is two bytes); line breaks inside a cell become spaces.
  EXPECT_EQ(out[2], "k\u00f6ln      -             1m15s   no   comma, \"quote\" and newline");
  EXPECT_EQ(out[3], "/a b, /c  0 B           0.2s    -    cr here");
  EXPECT_EQ(out[4], "");
  EXPECT_EQ(out[5], "rows: 3");
  EXPECT_EQ(out[6], "stored_bytes: 1.5 KiB");
}

TEST(ReportRender, TextCutsLongCellsButNotTheLastColumn) {
  Table table;
  table.columns = {"a", "b"};
  table.rows.push_back({std::string(100, 'x'), std::string(100, 'y')});
  auto out = lines(render_text(table));
  EXPECT_EQ(out[1], std::string(45, 'x') + "...  " + std::string(100, 'y'));
}

TEST(ReportRender, JsonIsOneObjectPerRowThenTheSummary) {
  auto out = lines(render_json(sample()));
  ASSERT_EQ(out.size(), 4u);
  auto first = Json::parse(out[0]);
  EXPECT_EQ(first,
            Json::parse(R"({"name":"home","stored_bytes":1536,"age_s":93784.0,"ok":true,"note":"plain"})"));
  auto second = Json::parse(out[1]);
  EXPECT_TRUE(second["stored_bytes"].is_null());
  EXPECT_EQ(second["note"], "comma, \"quote\"\nand newline");
  EXPECT_EQ(Json::parse(out[2])["name"], Json::array({"/a b", "/c"}));
  EXPECT_EQ(Json::parse(out[3]),
            Json::parse(R"({"type":"summary","report":"sample","rows":3,"stored_bytes":1536})"));
}

TEST(ReportRender, JsonReplacesInvalidUtf8InsteadOfFailing) {
  Table table;
  table.columns = {"path"};
  table.rows.push_back({std::string("/data/\xff\xfe.bin")});
  auto out = lines(render_json(table));
  EXPECT_EQ(Json::parse(out[0])["path"], "/data/\ufffd\ufffd.bin");
}

// A minimal RFC 4180 reader, to prove the output parses back to the same fields.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    auto& field = records.back().back();
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      EXPECT_TRUE(field.empty()) << "quote inside an unquoted field at byte " << i;
      quoted = true;
    } else if (c == ',') {
      records.back().emplace_back();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      records.emplace_back(1);
    } else {
      EXPECT_NE(c, '\n') << "bare LF outside quotes at byte " << i;
      field += c;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quoted field";
  if (records.back().size() == 1 && records.back()[0].empty()) records.pop_back();
  return records;
}

TEST(ReportRender, CsvQuotesCommasQuotesAndLineBreaks) {
  std::string csv = render_csv(sample());
  EXPECT_TRUE(csv.starts_with("name,stored_bytes,age_s,ok,note\r\nhome,1536,93784.0,true,plain\r\n")) << csv;
  EXPECT_NE(csv.find("k\u00f6ln,,75,false,\"comma, \"\"quote\"\"\nand newline\"\r\n"), std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\"/a b, /c\",0,0.25,,\"cr\rhere\"\r\n"), std::string::npos) << csv;
  auto records = parse_csv(csv);
  ASSERT_EQ(records.size(), 4u);
  for (const auto& record : records) EXPECT_EQ(record.size(), 5u);
  EXPECT_EQ(records[2][4], "comma, \"quote\"\nand newline");
  EXPECT_EQ(records[3][0], "/a b, /c");
  EXPECT_EQ(records[3][4], "cr\rhere");
}

TEST(ReportRender, EmptyTableStillHasItsHeader) {
  Table table;
  table.title = "empty";
  table.columns = {"a", "b"};
  EXPECT_EQ(render_csv(table), "a,b\r\n");
  EXPECT_EQ(render_text(table), "A  B\n");
  EXPECT_EQ(render_json(table), "{\"type\":\"summary\",\"report\":\"empty\"}\n");
}

}  // namespace
}  // namespace sbx::reports
