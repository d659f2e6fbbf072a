// CSV as RFC 4180 has it, for the files we write (metrics.csv, the sweep's
// summary.csv, counts.csv) and read (those, VisA's split CSV): a field with a
// comma, a double quote, CR or LF is quoted, its quotes doubled.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tc::core {

/// `text` as one CSV field: as is, or quoted when it must be.
std::string csv_field(const std::string& text);

struct CsvRecord {
  int64_t line = 0;  // 1-based line where the record starts (for messages)
  std::vector<std::string> cells;
};

/// Every record of `text` (CRLF or LF line ends; a quoted field may hold
/// either); blank lines are skipped. An unterminated quote or text after a
/// closing quote fails with one line naming `where` and the line.
std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& where);

}  // namespace tc::core
