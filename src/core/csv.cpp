#include "tailedcore/core/csv.h"

#include "tailedcore/core/check.h"

namespace tc::core {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& where) {
  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string cell;
  int64_t line = 1;
  bool blank = true;  // nothing of this record seen yet
  const auto end_record = [&] {
    if (!blank) {
      record.cells.push_back(cell);
      records.push_back(std::move(record));
    }
    record = CsvRecord{};
    cell.clear();
    blank = true;
  };
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    if (blank) record.line = line;
    const char c = text[i];
    if (c == '"' && cell.empty()) {
      const int64_t opened = line;
      blank = false;
      for (++i;; ++i) {
        TC_CHECK(i < n, where, ":", opened,
                 ": a quoted field has no closing quote: expected RFC 4180 CSV");
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            cell += '"';
            ++i;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        cell += text[i];
      }
      TC_CHECK(i == n || text[i] == ',' || text[i] == '\n' || text[i] == '\r', where, ":", line,
               ": text after a closing quote: expected a ',' or the line's end (RFC 4180 CSV)");
      continue;
    }
    if (c == ',') {
      record.cells.push_back(cell);
      cell.clear();
      blank = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
    } else {
      cell += c;
      blank = false;
    }
    ++i;
  }
  end_record();
  return records;
}

}  // namespace tc::core
