#include <catch2/catch.hpp>
#include <iconv.h>

#include <sstream>

#include "csv/csv.h"

using namespace closeloop;
using namespace closeloop::csv;
using namespace std::string_literals;

namespace {

using Cells = std::vector<std::string>;

// The bytes Excel on a Chinese Windows saves as "CSV", made with iconv directly so the
// test input does not depend on the parser under test.
std::string to_gb18030(const std::string& utf8) {
  iconv_t cd = iconv_open("GB18030", "UTF-8");
  REQUIRE(cd != reinterpret_cast<iconv_t>(-1));
  std::string out(utf8.size() * 2 + 4, '\0');
  char* src = const_cast<char*>(utf8.data());
  size_t src_left = utf8.size();
  char* dst = out.data();
  size_t dst_left = out.size();
  size_t rc = iconv(cd, &src, &src_left, &dst, &dst_left);
  iconv_close(cd);
  REQUIRE(rc != static_cast<size_t>(-1));
  out.resize(out.size() - dst_left);
  return out;
}

Table parsed(std::string_view bytes) {
  auto r = parse(bytes);
  if (!r) FAIL(r.error().message);
  return *r;
}

std::string refusal(std::string_view bytes) {
  auto r = parse(bytes);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == errc::kInvalid);
  return r.error().message;
}

const std::string kList =
    "类型,标题,内容,承办单位\n"
    "建议,关于修缮城南路灯的建议,城南片区路灯损坏较多,县交通运输局\n"
    "意见,\"关于加强校园周边交通管理的意见\",\"上下学时段拥堵，建议增设\n"
    "护学岗、\"\"限时停车\"\"标志\",县公安局\n"
    "批评,乡镇卫生院夜间值班不到位,,县卫生健康局\n";

}  // namespace

TEST_CASE("parse reads a Chinese list with LF or CRLF line ends", "[csv]") {
  std::string lf = "类型,标题,承办单位\n建议,路灯维修,县交通运输局\n意见,校车安全,县教育局\n";
  std::string crlf = "类型,标题,承办单位\r\n建议,路灯维修,县交通运输局\r\n意见,校车安全,县教育局";
  for (const auto& bytes : {lf, crlf}) {
    Table t = parsed(bytes);
    CHECK(t.header == Cells{"类型", "标题", "承办单位"});
    REQUIRE(t.rows.size() == 2);
    CHECK(t.rows[0].cells == Cells{"建议", "路灯维修", "县交通运输局"});
    CHECK(t.rows[0].line == 2);
    CHECK(t.rows[1].cells == Cells{"意见", "校车安全", "县教育局"});
    CHECK(t.rows[1].line == 3);
    CHECK(t.converted_from.empty());
  }
}

TEST_CASE("a lone CR ends a record, as old Mac files have it", "[csv]") {
  Table t = parsed("类型,标题\r建议,路灯\r意见,校车\r");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[1].cells == Cells{"意见", "校车"});
  CHECK(t.rows[1].line == 3);
}

TEST_CASE("parse strips a UTF-8 BOM from the first header name", "[csv]") {
  Table t = parsed("\xEF\xBB\xBF类型,标题\r\n建议,路灯\r\n");
  CHECK(t.header == Cells{"类型", "标题"});
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0].cells == Cells{"建议", "路灯"});
  CHECK(t.converted_from.empty());
}

TEST_CASE("quoted fields keep commas, doubled quotes and newlines, and later rows keep their lines",
          "[csv]") {
  Table t = parsed(kList);
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[1].line == 3);
  CHECK(t.rows[1].cells == Cells{"意见", "关于加强校园周边交通管理的意见",
                                 "上下学时段拥堵，建议增设\n护学岗、\"限时停车\"标志", "县公安局"});
  CHECK(t.rows[2].line == 5);  // the quoted newline counted
  CHECK(t.rows[2].cells == Cells{"批评", "乡镇卫生院夜间值班不到位", "", "县卫生健康局"});

  Table commas = parsed("标题,内容\r\n\"路灯, 城南\",\"a\r\nb\r\nc\"\r\n校车,\"\"\r\n");
  REQUIRE(commas.rows.size() == 2);
  CHECK(commas.rows[0].cells == Cells{"路灯, 城南", "a\r\nb\r\nc"});  // CRLF kept as saved
  CHECK(commas.rows[1].line == 5);
  CHECK(commas.rows[1].cells == Cells{"校车", ""});
}

TEST_CASE("a GB18030 file from Excel reads the same as its UTF-8 twin", "[csv]") {
  std::string gb = to_gb18030(kList);
  REQUIRE(gb != kList);
  Table from_gb = parsed(gb);
  Table from_utf8 = parsed(kList);
  CHECK(from_gb.converted_from == "GB18030");
  CHECK(from_gb.header == from_utf8.header);
  REQUIRE(from_gb.rows.size() == from_utf8.rows.size());
  for (size_t i = 0; i < from_gb.rows.size(); ++i) {
    CHECK(from_gb.rows[i].line == from_utf8.rows[i].line);
    CHECK(from_gb.rows[i].cells == from_utf8.rows[i].cells);
  }
}

TEST_CASE("bytes that are neither UTF-8 nor GB18030 are refused, saying where", "[csv]") {
  // Line 2 is GB18030 (convertible), line 3 has 0xFF, which neither encoding allows.
  std::string bytes = "类型,标题\n" + to_gb18030("建议,路灯") + "\n意见,\xFF\n";
  std::string message = refusal(bytes);
  CHECK_THAT(message, Catch::StartsWith("not UTF-8 text, and not GB18030 either: save the file "
                                        "as \"CSV UTF-8\""));
  CHECK_THAT(message, Catch::Contains("line 2, byte offset 14 is not UTF-8"));
  CHECK_THAT(message, Catch::Contains("line 3, byte offset 31 is not GB18030"));
}

TEST_CASE("a file with a UTF-8 BOM and bad bytes is refused, not guessed as GB18030", "[csv]") {
  std::string message = refusal("\xEF\xBB\xBF类型\n" + to_gb18030("建议") + "\n");
  CHECK_THAT(message, Catch::Contains("not UTF-8 text at line 2, byte offset 10"));
  CHECK_THAT(message, Catch::Contains("\"CSV UTF-8\""));
}

TEST_CASE("UTF-16 files are refused by name", "[csv]") {
  CHECK_THAT(refusal("\xFF\xFE\x7B\x7C,\0"s), Catch::Contains("UTF-16"));
  CHECK_THAT(refusal("\xFE\xFF\x7C\x7B\0,"s), Catch::Contains("UTF-16"));
}

TEST_CASE("a NUL byte means a binary file, not CSV", "[csv]") {
  std::string message = refusal("类型,标题\n建议,路\0灯\n"s);
  CHECK_THAT(message, Catch::StartsWith("line 2: a NUL byte"));
}

TEST_CASE("broken quotes are refused naming the line", "[csv]") {
  SECTION("an unclosed quoted field names the line where it opens") {
    CHECK(refusal("类型,内容\n建议,路灯\n意见,\"没有结束\n第二行\n第三行\n") ==
          "line 3: a quoted field is not closed");
  }
  SECTION("text after a closing quote") {
    CHECK(refusal("类型,内容\r\n建议,\"路灯\"坏了\r\n") ==
          "line 2: unexpected character after a closing quote");
  }
  SECTION("text after a closing quote, on the line the character is on") {
    CHECK(refusal("类型,内容\n建议,\"路灯\n\"坏了\n") ==
          "line 3: unexpected character after a closing quote");
  }
  SECTION("a quote inside an unquoted field") {
    CHECK_THAT(refusal("类型,内容\n建议,路灯\n意见,所谓\"限时\"停车\n"),
               Catch::StartsWith("line 3: a quote inside an unquoted field"));
  }
}

TEST_CASE("an empty file has no header row", "[csv]") {
  for (std::string_view bytes : {"", "\xEF\xBB\xBF", "\r\n\n", ",,\r\n"}) {
    CHECK(refusal(bytes) == "empty file: no header row");
  }
}

TEST_CASE("a file of only a header has no rows", "[csv]") {
  Table t = parsed("\xEF\xBB\xBF类型,标题,内容,承办单位\r\n");
  CHECK(t.header == Cells{"类型", "标题", "内容", "承办单位"});
  CHECK(t.rows.empty());
}

TEST_CASE("blank lines and rows of only commas are skipped, line numbers stay true", "[csv]") {
  Table t = parsed("\n类型,标题\n\n建议,路灯\n,\n\r\n意见,校车\n");
  CHECK(t.header == Cells{"类型", "标题"});
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0].line == 4);
  CHECK(t.rows[1].line == 7);
}

TEST_CASE("rows shorter or longer than the header are kept as they are", "[csv]") {
  Table t = parsed("类型,标题,承办单位\n建议\n意见,校车,县教育局,多余\n批评,,\n");
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[0].cells == Cells{"建议"});
  CHECK(t.rows[1].cells == Cells{"意见", "校车", "县教育局", "多余"});
  CHECK(t.rows[2].cells == Cells{"批评", "", ""});
}

TEST_CASE("header names are trimmed of spaces, data cells are not", "[csv]") {
  Table t = parsed(" 类型 ,\" 标题\"\n 建议 ,路灯 \n");
  CHECK(t.header == Cells{"类型", "标题"});
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0].cells == Cells{" 建议 ", "路灯 "});
}

TEST_CASE("field quotes only when needed and guards formulas", "[csv]") {
  CHECK(field("县交通运输局") == "县交通运输局");
  CHECK(field("") == "");
  CHECK(field("a,b") == "\"a,b\"");
  CHECK(field("所谓\"限时\"") == "\"所谓\"\"限时\"\"\"");
  CHECK(field("一\n二") == "\"一\n二\"");
  CHECK(field("一\r二") == "\"一\r二\"");
  CHECK(field(" 前后 ") == "\" 前后 \"");
  CHECK(field("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"");
  CHECK(field("+1") == "\"'+1\"");
  CHECK(field("-5") == "\"'-5\"");
  CHECK(field("@SUM(A1)") == "\"'@SUM(A1)\"");
  CHECK(field("a=b") == "a=b");
}

TEST_CASE("Writer output starts with the BOM, uses CRLF and round-trips through parse", "[csv]") {
  Cells header{"类型", "标题", "内容", "承办单位"};
  std::vector<Cells> rows{
      {"建议", "关于修缮城南路灯的建议", "第一行\n第二行", "县交通运输局"},
      {"意见", "所谓\"限时停车\"", "一, 二, 三", "县公安局"},
      {"批评", "=1+1", " 前后有空格 ", ""},
      {"建议", "只有两格"},
  };
  std::ostringstream out;
  Writer writer(out);
  writer.row(header);
  for (const auto& r : rows) writer.row(r);
  std::string bytes = out.str();

  CHECK(bytes.starts_with("\xEF\xBB\xBF类型,标题,内容,承办单位\r\n"));
  CHECK(bytes.ends_with("\r\n"));
  CHECK(bytes.find("\"'=1+1\"") != std::string::npos);

  Table t = parsed(bytes);
  CHECK(t.header == header);
  REQUIRE(t.rows.size() == rows.size());
  rows[2][1] = "'=1+1";  // the formula guard stays on reading
  for (size_t i = 0; i < rows.size(); ++i) CHECK(t.rows[i].cells == rows[i]);
  CHECK(t.rows[1].line == 4);  // row 0's quoted newline took a line
}
