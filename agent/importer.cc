#include "agent/importer.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/values.h"
#include "common/csv.h"

namespace ohfed::agent {
namespace {

constexpr size_t kMaxIdLength = 64;
const std::set<std::string> kBases = {"employed", "locum", "bank", "contracted",
                                      "vacant"};

v1::RowProblem Problem(int line, absl::string_view column,
                       absl::string_view reason) {
  v1::RowProblem p;
  p.set_line(line);
  p.set_column(std::string(column));
  p.set_reason(std::string(reason));
  return p;
}

// The fields of one record by column name, and the problems found in it.
class RowReader {
 public:
  RowReader(const CsvTable& table, const CsvRecord& record,
            std::vector<v1::RowProblem>* errors)
      : table_(table), record_(record), errors_(errors),
        before_(errors->size()) {}

  std::string Get(absl::string_view column) const {
    return CsvTable::Field(record_, table_.Column(column));
  }
  void Fail(absl::string_view column, absl::string_view reason) {
    errors_->push_back(Problem(record_.line, column, reason));
  }
  bool ok() const { return errors_->size() == before_; }
  int line() const { return record_.line; }

 private:
  const CsvTable& table_;
  const CsvRecord& record_;
  std::vector<v1::RowProblem>* errors_;
  size_t before_;
};

// "YYYY-MM" not after the current month.
bool CheckMonth(RowReader& row, absl::string_view column,
                absl::string_view text, const ImportContext& ctx, Month* out) {
  absl::StatusOr<Month> m = Month::Parse(text);
  if (!m.ok()) {
    row.Fail(column, absl::StrCat("malformed month '", text,
                                  "': expected YYYY-MM, e.g. 2026-03"));
    return false;
  }
  if (*m > ctx.current_month) {
    row.Fail(column, absl::StrCat(text, " is in the future (the current month "
                                        "is ", ctx.current_month.ToString(), ")"));
    return false;
  }
  *out = *m;
  return true;
}

int DaysIn(Month m) {
  return static_cast<int>(absl::ToInt64Hours((m + 1).Start() - m.Start()) / 24);
}

// "YYYY-MM-DD", a real calendar date, not in a month after the current one.
bool CheckDate(RowReader& row, const std::string& text,
               const ImportContext& ctx, Month* month) {
  int day = 0;
  absl::StatusOr<Month> m = Month::Parse(absl::string_view(text).substr(0, 7));
  bool shape = text.size() == 10 && text[7] == '-' && m.ok() &&
               absl::SimpleAtoi(absl::string_view(text).substr(8), &day) &&
               absl::ascii_isdigit(text[8]) && absl::ascii_isdigit(text[9]);
  if (!shape || day < 1 || day > DaysIn(*m)) {
    row.Fail("date", absl::StrCat("malformed date '", text,
                                  "': expected YYYY-MM-DD, e.g. 2026-03-14"));
    return false;
  }
  return CheckMonth(row, "date", text.substr(0, 7), ctx, month);
}

bool CheckId(RowReader& row, absl::string_view column, const std::string& id) {
  if (id.size() > kMaxIdLength) {
    row.Fail(column, absl::StrCat("longer than ", kMaxIdLength, " characters"));
    return false;
  }
  return true;
}

void ReadStaffing(RowReader& row, const ImportContext& ctx, ParsedImport* out,
                  std::set<std::pair<std::string, std::string>>* posts) {
  Month month;
  CheckMonth(row, "period", row.Get("period"), ctx, &month);
  StaffingRow r;
  r.group = row.Get("staff_group");
  if (ctx.catalogue->Find("staffing.wte." + r.group) == nullptr) {
    row.Fail("staff_group", absl::StrCat("unknown staff group '", r.group, "'"));
  }
  r.basis = absl::AsciiStrToLower(row.Get("basis"));
  if (r.basis.empty()) r.basis = "employed";
  if (!kBases.count(r.basis)) {
    row.Fail("basis", absl::StrCat("unknown basis '", r.basis,
                                   "' (expected employed, locum, bank, "
                                   "contracted or vacant)"));
  }
  r.post_id = row.Get("post_id");
  CheckId(row, "post_id", r.post_id);
  std::string wte = row.Get("wte");
  const bool post = !r.post_id.empty();
  if (!ParseNumber(wte, &r.wte)) {
    row.Fail("wte", absl::StrCat("expected a number, got '", wte, "'"));
  } else if (post && (r.wte <= 0 || r.wte > 1.0)) {
    row.Fail("wte", absl::StrCat("a post's wte must be more than 0 and at most "
                                 "1.0, got ", wte));
  } else if (!post && (r.wte < 0 || r.wte > 1000)) {
    row.Fail("wte", absl::StrCat("a group total's wte must be 0 to 1000, got ",
                                 wte));
  }
  if (!row.ok()) return;
  std::string period = month.ToString();
  if (post && !posts->insert({period, r.post_id}).second) {
    row.Fail("post_id", absl::StrCat("post '", r.post_id,
                                     "' appears twice in ", period));
    return;
  }
  out->staffing[period].push_back(std::move(r));
}

void ReadActivity(RowReader& row, const ImportContext& ctx, ParsedImport* out) {
  ActivityRow r;
  r.date = row.Get("date");
  Month month;
  CheckDate(row, r.date, ctx, &month);
  r.activity = row.Get("activity");
  const Measure* wait =
      ctx.catalogue->Find("activity.wait_days." + r.activity);
  if (ctx.catalogue->Find("activity.count." + r.activity) == nullptr) {
    row.Fail("activity", absl::StrCat("unknown activity '", r.activity, "'"));
  }
  r.client_org = absl::AsciiStrToUpper(row.Get("client_org"));
  if (r.client_org.empty()) r.client_org = ctx.trust;
  CheckId(row, "client_org", r.client_org);
  r.subject_ref = row.Get("subject_ref");
  CheckId(row, "subject_ref", r.subject_ref);
  std::string days = row.Get("wait_days");
  if (!days.empty()) {
    double max = wait ? wait->max : 365;
    if (!absl::SimpleAtoi(days, &r.wait_days)) {
      row.Fail("wait_days", absl::StrCat("expected a whole number of days, "
                                         "got '", days, "'"));
    } else if (r.wait_days < 0 || r.wait_days > max) {
      row.Fail("wait_days", absl::StrCat("wait_days must be 0 to ", max,
                                         ", got ", days));
    }
  }
  if (row.ok()) out->activity[month.ToString()].push_back(std::move(r));
}

void ReadProfile(RowReader& row, const ImportContext& ctx, ParsedImport* out,
                 std::map<std::pair<std::string, std::string>, int>* seen) {
  std::string year_text = row.Get("year");
  int year = 0;
  if (year_text.size() != 4 || !absl::SimpleAtoi(year_text, &year) ||
      year < 1900) {
    row.Fail("year", absl::StrCat("malformed year '", year_text,
                                  "': expected YYYY, e.g. 2026"));
  } else if (year > ctx.current_month.year()) {
    row.Fail("year", absl::StrCat(year_text, " is in the future"));
  }
  std::string question = absl::AsciiStrToLower(row.Get("question"));
  std::string code = "profile." + question;
  absl::StatusOr<Target> target = ResolveTarget(*ctx.catalogue, code);
  if (!target.ok() || target->frequency != Frequency::kYear) {
    row.Fail("question", absl::StrCat("unknown question '", question, "'"));
    return;
  }
  std::string answer = row.Get("answer");
  absl::StatusOr<std::vector<v1::Cell>> cells =
      CellsForValue(*ctx.catalogue, *target, answer);
  if (!cells.ok()) row.Fail("answer", cells.status().message());
  if (!row.ok()) return;
  auto [it, fresh] = seen->insert({{year_text, code}, row.line()});
  if (!fresh) {
    row.Fail("question", absl::StrCat("answered twice for ", year_text,
                                      " (first on line ", it->second, ")"));
    return;
  }
  out->profile[year_text][code] = answer;
}

struct Columns {
  std::vector<std::string> required, optional;
};

Columns ColumnsOf(v1::ImportKind kind) {
  switch (kind) {
    case v1::IMPORT_KIND_STAFFING:
      return {{"period", "staff_group", "wte"}, {"basis", "post_id"}};
    case v1::IMPORT_KIND_ACTIVITY:
      return {{"date", "activity"}, {"client_org", "subject_ref", "wait_days"}};
    default:
      return {{"year", "question", "answer"}, {}};
  }
}

// Missing required columns are fatal; unknown ones are only warned about.
void CheckHeader(const CsvTable& table, const Columns& columns,
                 ParsedImport* out) {
  for (const std::string& c : columns.required) {
    if (table.Column(c) < 0) {
      out->errors.push_back(Problem(table.header_line, c,
                                    "missing required column"));
      out->fatal = true;
    }
  }
  for (const std::string& h : table.header) {
    bool known = std::count(columns.required.begin(), columns.required.end(), h) ||
                 std::count(columns.optional.begin(), columns.optional.end(), h);
    if (!known) {
      out->warnings.push_back(Problem(table.header_line, h,
                                      "unknown column ignored"));
    }
  }
}

}  // namespace

absl::StatusOr<ParsedImport> ParseImport(v1::ImportKind kind,
                                         absl::string_view content,
                                         const ImportContext& ctx) {
  if (kind == v1::IMPORT_KIND_UNSPECIFIED || !v1::ImportKind_IsValid(kind)) {
    return absl::InvalidArgumentError(
        "import kind must be staffing, activity or profile");
  }
  absl::StatusOr<CsvTable> table = ParseCsv(content, ctx.file_name);
  if (!table.ok()) return table.status();
  ParsedImport out;
  out.kind = kind;
  out.rows_read = table->records.size();
  CheckHeader(*table, ColumnsOf(kind), &out);
  if (out.fatal) return out;
  std::set<std::pair<std::string, std::string>> posts;
  std::map<std::pair<std::string, std::string>, int> answered;
  for (const CsvRecord& record : table->records) {
    RowReader row(*table, record, &out.errors);
    if (record.fields.size() != table->header.size()) {
      row.Fail("", absl::StrCat("expected ", table->header.size(),
                                " fields, found ", record.fields.size()));
      continue;
    }
    switch (kind) {
      case v1::IMPORT_KIND_STAFFING: ReadStaffing(row, ctx, &out, &posts); break;
      case v1::IMPORT_KIND_ACTIVITY: ReadActivity(row, ctx, &out); break;
      default: ReadProfile(row, ctx, &out, &answered); break;
    }
  }
  return out;
}

}  // namespace ohfed::agent
