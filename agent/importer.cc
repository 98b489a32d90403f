#include "agent/importer.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agent/summary.h"
#include "agent/values.h"
#include "common/csv.h"
#include "common/status.h"
#include "common/transport.h"

namespace ohfed::agent {
namespace {

constexpr size_t kMaxIdLength = 64;
// What is kept of a file's start: its encoding and separator are told from
// it.
constexpr size_t kHeadBytes = 64 << 10;
constexpr char kNotUtf8[] =
    "not UTF-8 (is the file saved as Windows-1252? save it as CSV UTF-8)";
constexpr char kSemicolons[] =
    "looks ';'-separated; the file must be comma-separated (in Excel, save "
    "as CSV UTF-8 (Comma delimited))";
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

// Records an error: listed while fewer than kMaxReportedProblems are,
// counted always.
void AddError(ParsedImport* out, v1::RowProblem p) {
  ++out->errors_total;
  if (out->errors.size() < kMaxReportedProblems)
    out->errors.push_back(std::move(p));
}

}  // namespace

namespace importer_internal {

// The fields of one record by column name, and whether any was bad.
class RowReader {
 public:
  RowReader(const CsvTable& table, const CsvRow& record, ParsedImport* out)
      : table_(table), record_(record), out_(out) {}

  std::string Get(absl::string_view column) const {
    return std::string(CsvTable::FieldView(record_, table_.Column(column)));
  }
  // The field of column `col` (see CsvTable::FieldView), without a copy.
  absl::string_view View(int col) const {
    return CsvTable::FieldView(record_, col);
  }
  void Fail(absl::string_view column, absl::string_view reason) {
    failed_ = true;
    AddError(out_, Problem(record_.line, column, reason));
  }
  bool ok() const { return !failed_; }
  int line() const { return record_.line; }

 private:
  const CsvTable& table_;
  const CsvRow& record_;
  ParsedImport* out_;
  bool failed_ = false;
};

// What a staffing file has given so far, to keep one figure per group and
// month: lines by (period, post_id), (period, group) and (period, group,
// basis).
struct StaffingSeen {
  std::map<std::pair<std::string, std::string>, int> posts;
  std::map<std::pair<std::string, std::string>, int> groups_with_posts;
  std::map<std::pair<std::string, std::string>, int> groups_with_totals;
  std::map<std::tuple<std::string, std::string, std::string>, int> totals;
};

}  // namespace importer_internal

namespace {

using importer_internal::RowReader;
using importer_internal::StaffingSeen;

// "YYYY-MM" not after the current month.
bool CheckMonth(RowReader& row, absl::string_view column,
                absl::string_view text, const ImportContext& ctx, Month* out) {
  absl::StatusOr<Month> m = Month::Parse(text);
  if (!m.ok()) {
    row.Fail(column, absl::StrCat("malformed month '", Excerpt(text),
                                  "': expected YYYY-MM, e.g. 2026-03"));
    return false;
  }
  if (*m > ctx.current_month) {
    row.Fail(column, absl::StrCat(text,
                                  " is in the future (the current month "
                                  "is ",
                                  ctx.current_month.ToString(), ")"));
    return false;
  }
  *out = *m;
  return true;
}

absl::CivilDay Today(const ImportContext& ctx) {
  if (ctx.today.has_value()) return *ctx.today;
  const Month next = ctx.current_month + 1;
  return absl::CivilDay(next.year(), next.month(), 1) - 1;
}

// "YYYY-MM-DD", a real calendar date, not after today.
bool CheckDate(RowReader& row, const std::string& text,
               const ImportContext& ctx, Month* month) {
  int day = 0;
  absl::StatusOr<Month> m = Month::Parse(absl::string_view(text).substr(0, 7));
  bool shape = text.size() == 10 && text[7] == '-' && m.ok() &&
               absl::ascii_isdigit(text[8]) && absl::ascii_isdigit(text[9]) &&
               absl::SimpleAtoi(absl::string_view(text).substr(8), &day);
  const absl::CivilDay date(m.ok() ? m->year() : 0, m.ok() ? m->month() : 1,
                            day);
  if (!shape || day < 1 || date.day() != day) {
    row.Fail("date", absl::StrCat("malformed date '", Excerpt(text),
                                  "': expected YYYY-MM-DD, e.g. 2026-03-14"));
    return false;
  }
  const absl::CivilDay today = Today(ctx);
  if (date > today) {
    row.Fail("date",
             absl::StrFormat("%s is in the future (today is %04d-%02d-%02d)",
                             text, today.year(), today.month(), today.day()));
    return false;
  }
  return CheckMonth(row, "date", text.substr(0, 7), ctx, month);
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

bool CheckId(RowReader& row, absl::string_view column, const std::string& id) {
  if (id.size() > kMaxIdLength) {
    row.Fail(column, absl::StrCat("longer than ", kMaxIdLength, " characters"));
    return false;
  }
  return true;
}

// The part of `prefix` + `typed` after the prefix, spelt as the catalogue
// does; empty if the catalogue has no such measure.
std::string CatalogueName(const Catalogue& catalogue, absl::string_view prefix,
                          absl::string_view typed) {
  std::string code = CanonicalCode(catalogue, absl::StrCat(prefix, typed));
  if (typed.empty() || catalogue.Find(code) == nullptr) return "";
  return code.substr(prefix.size());
}

void NoteLines(const std::string& period,
               const std::vector<std::string>& measures, int line,
               ParsedImport* out) {
  SourceLines& lines = out->lines[period];
  for (const std::string& m : measures) lines.emplace(m, line);
}

// Refuses a second figure for the row's group and month, naming the line of
// the first. Records the row when it is accepted.
bool CheckOneFigure(RowReader& row, const std::string& period,
                    const StaffingRow& r, StaffingSeen& seen) {
  const auto group = std::make_pair(period, r.group);
  const std::string both =
      absl::StrCat(r.group, " in ", period,
                   " has both posts and a group total: give one "
                   "row per post or one group total per basis, not both");
  if (!r.post_id.empty()) {
    if (auto it = seen.posts.find({period, r.post_id});
        it != seen.posts.end()) {
      row.Fail("post_id",
               absl::StrCat("post '", Excerpt(r.post_id), "' appears twice in ",
                            period, " (first on line ", it->second, ")"));
      return false;
    }
    if (auto it = seen.groups_with_totals.find(group);
        it != seen.groups_with_totals.end()) {
      row.Fail("staff_group",
               absl::StrCat(both, " (group total on line ", it->second, ")"));
      return false;
    }
    seen.posts.emplace(std::make_pair(period, r.post_id), row.line());
    seen.groups_with_posts.emplace(group, row.line());
    return true;
  }
  if (auto it = seen.groups_with_posts.find(group);
      it != seen.groups_with_posts.end()) {
    row.Fail("staff_group",
             absl::StrCat(both, " (first post on line ", it->second, ")"));
    return false;
  }
  auto [it, fresh] = seen.totals.emplace(
      std::make_tuple(period, r.group, r.basis), row.line());
  if (!fresh) {
    row.Fail("staff_group",
             absl::StrCat("a second ", r.basis, " group total for ", r.group,
                          " in ", period, " (the first is on line ", it->second,
                          "): give one figure per group and month"));
    return false;
  }
  seen.groups_with_totals.emplace(group, row.line());
  return true;
}

void ReadStaffing(RowReader& row, const ImportContext& ctx, ParsedImport* out,
                  StaffingSeen& seen) {
  Month month;
  CheckMonth(row, "period", row.Get("period"), ctx, &month);
  StaffingRow r;
  const std::string group = row.Get("staff_group");
  r.group = CatalogueName(*ctx.catalogue, "staffing.wte.", group);
  if (r.group.empty()) {
    row.Fail("staff_group",
             absl::StrCat("unknown staff group '", Excerpt(group), "'"));
  }
  r.basis = absl::AsciiStrToLower(row.Get("basis"));
  if (r.basis.empty()) r.basis = "employed";
  if (!kBases.count(r.basis)) {
    row.Fail("basis", absl::StrCat("unknown basis '", Excerpt(r.basis),
                                   "' (expected employed, locum, bank, "
                                   "contracted or vacant)"));
  }
  r.post_id = row.Get("post_id");
  CheckId(row, "post_id", r.post_id);
  std::string wte = row.Get("wte");
  const bool post = !r.post_id.empty();
  if (!ParseNumber(wte, &r.wte)) {
    row.Fail("wte", NotANumber(wte));
  } else if (post && (r.wte <= 0 || r.wte > 1.0)) {
    row.Fail("wte", absl::StrCat("a post's wte must be more than 0 and at most "
                                 "1.0, got ",
                                 wte));
  } else if (!post && (r.wte < 0 || r.wte > 1000)) {
    row.Fail("wte",
             absl::StrCat("a group total's wte must be 0 to 1000, got ", wte));
  }
  if (!row.ok()) return;
  const std::string period = month.ToString();
  if (!CheckOneFigure(row, period, r, seen)) return;
  NoteLines(period, MeasuresOf(r), row.line(), out);
  out->staffing[period].push_back(std::move(r));
}

void ReadProfile(RowReader& row, const ImportContext& ctx, ParsedImport* out,
                 std::map<std::pair<std::string, std::string>, int>* seen) {
  std::string year_text = row.Get("year");
  int year = 0;
  if (year_text.size() != 4 || !absl::SimpleAtoi(year_text, &year) ||
      year < 1900) {
    row.Fail("year", absl::StrCat("malformed year '", Excerpt(year_text),
                                  "': expected YYYY, e.g. 2026"));
  } else if (year > ctx.current_month.year()) {
    row.Fail("year", absl::StrCat(year_text,
                                  " is in the future (the current "
                                  "year is ",
                                  ctx.current_month.year(), ")"));
  }
  std::string question = row.Get("question");
  absl::StatusOr<Target> target =
      ResolveTarget(*ctx.catalogue, "profile." + question);
  if (!target.ok() || target->frequency != Frequency::kYear) {
    row.Fail("question",
             absl::StrCat("unknown question '", Excerpt(question), "'"));
    return;
  }
  std::string answer = row.Get("answer");
  absl::StatusOr<std::vector<v1::Cell>> cells =
      CellsForValue(*ctx.catalogue, *target, answer);
  if (!cells.ok()) row.Fail("answer", cells.status().message());
  if (!row.ok()) return;
  auto [it, fresh] = seen->insert({{year_text, target->code}, row.line()});
  if (!fresh) {
    row.Fail("question", absl::StrCat("answered twice for ", year_text,
                                      " (first on line ", it->second, ")"));
    return;
  }
  out->profile[year_text][target->code] = answer;
}

struct Columns {
  std::vector<std::string> required, optional;
  bool Knows(const std::string& name) const {
    return std::count(required.begin(), required.end(), name) ||
           std::count(optional.begin(), optional.end(), name);
  }
};

const Columns& ColumnsOf(v1::ImportKind kind) {
  static const Columns* const staffing =
      new Columns{{"period", "staff_group", "wte"}, {"basis", "post_id"}};
  static const Columns* const activity = new Columns{
      {"date", "activity"}, {"client_org", "subject_ref", "wait_days"}};
  static const Columns* const profile =
      new Columns{{"year", "question", "answer"}, {}};
  switch (kind) {
    case v1::IMPORT_KIND_STAFFING:
      return *staffing;
    case v1::IMPORT_KIND_ACTIVITY:
      return *activity;
    default:
      return *profile;
  }
}

void Fatal(const CsvTable& table, absl::string_view column,
           absl::string_view reason, ParsedImport* out) {
  AddError(out, Problem(table.header_line, column, reason));
  out->fatal = true;
}

// The first line that is not a '#' comment has a ';' and no ','.
bool LooksSemicolonSeparated(absl::string_view content) {
  while (absl::StartsWith(content, "#")) {
    size_t end = content.find('\n');
    content = end == absl::string_view::npos ? "" : content.substr(end + 1);
  }
  absl::string_view line = content.substr(0, content.find('\n'));
  return absl::StrContains(line, ';') && !absl::StrContains(line, ',');
}

// A header that is not UTF-8, or lacks a required column, is fatal; unknown
// columns are only warned about.
void CheckHeader(const CsvTable& table, const Columns& columns,
                 ParsedImport* out) {
  for (size_t i = 0; i < table.header.size(); ++i) {
    if (FindInvalidUtf8(table.header[i]) != absl::string_view::npos) {
      Fatal(table, "", absl::StrCat("header column ", i + 1, ": ", kNotUtf8),
            out);
      return;
    }
  }
  std::vector<std::string> missing;
  for (const std::string& c : columns.required) {
    if (table.Column(c) < 0) missing.push_back(c);
  }
  const std::string joined = absl::StrJoin(table.header, ",");
  if (!missing.empty() && absl::StrContains(joined, ';')) {
    Fatal(table, "",
          absl::StrCat("the header '", Excerpt(joined, 80), "' ", kSemicolons),
          out);
    return;
  }
  for (const std::string& c : missing) {
    Fatal(table, c, "missing required column", out);
  }
  size_t unknown = 0;
  for (const std::string& h : table.header) {
    if (columns.Knows(h)) continue;
    if (++unknown <= kMaxReportedProblems) {
      out->warnings.push_back(
          Problem(table.header_line, Excerpt(h), "unknown column ignored"));
    }
  }
  if (unknown > kMaxReportedProblems) {
    out->warnings.push_back(
        Problem(table.header_line, "",
                absl::StrCat(unknown - kMaxReportedProblems,
                             " more unknown columns ignored")));
  }
}

// ASCII, so UTF-8: the usual case, told by a cheaper test.
bool IsAscii(absl::string_view s) {
  unsigned char any = 0;
  for (char c : s) any |= static_cast<unsigned char>(c);
  return any < 0x80;
}

// Every field the import reads must be UTF-8 before any of it is used.
// `known` marks the header's columns the import reads.
bool CheckEncoding(RowReader& row, const CsvTable& table, const CsvRow& record,
                   const std::vector<bool>& known) {
  for (size_t i = 0; i < table.header.size(); ++i) {
    if (known[i] && i < record.fields.size() && !IsAscii(record.fields[i]) &&
        FindInvalidUtf8(TrimSpaces(record.fields[i])) !=
            absl::string_view::npos) {
      row.Fail(table.header[i], kNotUtf8);
    }
  }
  return row.ok();
}

}  // namespace

absl::StatusOr<ParsedImport> ParseImport(v1::ImportKind kind,
                                         absl::string_view content,
                                         const ImportContext& ctx) {
  ImportParser parser(kind, ctx);
  OHFED_RETURN_IF_ERROR(parser.Feed(content));
  return parser.Finish();
}

ImportParser::ImportParser(v1::ImportKind kind, ImportContext context,
                           ActivitySink* activity)
    : kind_(kind),
      ctx_(std::move(context)),
      sink_(activity),
      reader_(ctx_.file_name),
      staffing_(std::make_unique<StaffingSeen>()) {
  if (kind == v1::IMPORT_KIND_UNSPECIFIED || !v1::ImportKind_IsValid(kind)) {
    status_ = absl::InvalidArgumentError(
        "import kind must be staffing, activity or profile");
  }
  out_.kind = kind;
  const absl::CivilDay today = Today(ctx_);
  today_ = static_cast<int>(today.year()) * 10000 + today.month() * 100 +
           today.day();
}

ImportParser::~ImportParser() = default;

absl::Status ImportParser::CsvError(absl::Status s) const {
  if (s.code() != absl::StatusCode::kInvalidArgument ||
      !LooksSemicolonSeparated(head_)) {
    return s;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(s.message(), "; ", kSemicolons));
}

absl::Status ImportParser::FeedReader(absl::string_view text) {
  absl::Status s =
      reader_.FeedRows(text, [this](const CsvRow& r) { return OnRecord(r); });
  if (!s.ok()) status_ = CsvError(s);
  return status_;
}

absl::Status ImportParser::Feed(absl::string_view piece) {
  if (!status_.ok()) return status_;
  const size_t take = std::min(piece.size(), kHeadBytes - head_.size());
  head_.append(piece.data(), take);
  if (encoding_checked_) return FeedReader(piece);
  // The first two bytes tell UTF-16; until then nothing is parsed.
  if (head_.size() < 2) return absl::OkStatus();
  encoding_checked_ = true;
  if (absl::StartsWith(head_, "\xFF\xFE") ||
      absl::StartsWith(head_, "\xFE\xFF")) {
    status_ = absl::InvalidArgumentError(absl::StrCat(
        ctx_.file_name,
        " is saved as UTF-16 (Unicode text); save it as CSV UTF-8"));
    return status_;
  }
  OHFED_RETURN_IF_ERROR(FeedReader(head_));
  return FeedReader(piece.substr(take));
}

absl::StatusOr<ParsedImport> ImportParser::Finish() {
  if (!status_.ok()) return status_;
  if (!encoding_checked_) {
    encoding_checked_ = true;
    OHFED_RETURN_IF_ERROR(FeedReader(head_));
  }
  absl::Status s =
      reader_.FinishRows([this](const CsvRow& r) { return OnRecord(r); });
  if (!s.ok()) {
    status_ = CsvError(s);
    return status_;
  }
  if (!header_checked_) {
    header_checked_ = true;
    CheckHeader(reader_.table(), ColumnsOf(kind_), &out_);
  }
  status_ = absl::FailedPreconditionError("import already finished");
  return std::move(out_);
}

absl::Status ImportParser::OnRecord(const CsvRow& record) {
  const CsvTable& table = reader_.table();
  if (!header_checked_) {
    header_checked_ = true;
    const Columns& columns = ColumnsOf(kind_);
    CheckHeader(table, columns, &out_);
    for (const std::string& name : table.header) {
      known_columns_.push_back(columns.Knows(name));
    }
    activity_columns_ = {table.Column("date"), table.Column("activity"),
                         table.Column("client_org"),
                         table.Column("subject_ref"),
                         table.Column("wait_days")};
  }
  ++out_.rows_read;
  if (out_.fatal) return absl::OkStatus();
  RowReader row(table, record, &out_);
  absl::Status s;
  if (record.fields.size() != table.header.size()) {
    row.Fail("", absl::StrCat("expected ", table.header.size(),
                              " fields, found ", record.fields.size()));
  } else if (CheckEncoding(row, table, record, known_columns_)) {
    switch (kind_) {
      case v1::IMPORT_KIND_STAFFING:
        ReadStaffing(row, ctx_, &out_, *staffing_);
        break;
      case v1::IMPORT_KIND_ACTIVITY:
        s = ReadActivityRow(row);
        break;
      default:
        ReadProfile(row, ctx_, &out_, &answered_);
        break;
    }
  }
  if (!row.ok()) ++out_.rows_invalid;
  return s;
}

const ImportParser::ActivityCode& ImportParser::Activity(
    absl::string_view typed) {
  auto it = activities_.find(typed);
  if (it != activities_.end()) return it->second;
  ActivityCode code;
  code.name = CatalogueName(*ctx_.catalogue, "activity.count.", typed);
  code.id = static_cast<int>(activities_.size());
  code.wait = ctx_.catalogue->Find("activity.wait_days." + code.name);
  return activities_.emplace(std::string(typed), std::move(code)).first->second;
}

bool ImportParser::QuickDate(absl::string_view d, Month* month) const {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  int digits[8];
  int n = 0;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!absl::ascii_isdigit(d[i])) return false;
    digits[n++] = d[i] - '0';
  }
  const int year =
      digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3];
  const int mon = digits[4] * 10 + digits[5];
  const int day = digits[6] * 10 + digits[7];
  // Month::Parse's years; a day the month has.
  if (year < 1900 || year > 2999 || mon < 1 || mon > 12 || day < 1 ||
      day > DaysInMonth(year, mon)) {
    return false;
  }
  if (year * 10000 + mon * 100 + day > today_) return false;
  *month = Month::Of(year, mon);
  return *month <= ctx_.current_month;
}

bool ImportParser::QuickActivityRow(const importer_internal::RowReader& row,
                                    ActivityView* view, Month* month,
                                    const ActivityCode** code) {
  const ActivityColumns& cols = activity_columns_;
  view->date = row.View(cols.date);
  if (!QuickDate(view->date, month)) return false;
  *code = &Activity(row.View(cols.activity));
  if ((*code)->name.empty()) return false;
  view->activity = (*code)->name;
  view->client_org = row.View(cols.client_org);
  if (std::any_of(view->client_org.begin(), view->client_org.end(),
                  absl::ascii_islower)) {
    upper_.assign(view->client_org.data(), view->client_org.size());
    absl::AsciiStrToUpper(&upper_);
    view->client_org = upper_;
  }
  if (view->client_org.empty()) view->client_org = ctx_.trust;
  view->subject_ref = row.View(cols.subject_ref);
  if (view->client_org.size() > kMaxIdLength ||
      view->subject_ref.size() > kMaxIdLength) {
    return false;
  }
  const absl::string_view days = row.View(cols.wait_days);
  view->wait_days = -1;
  if (days.empty()) return true;
  if (days.size() > 9) return false;
  int wait = 0;
  for (char c : days) {
    if (!absl::ascii_isdigit(c)) return false;
    wait = wait * 10 + (c - '0');
  }
  view->wait_days = wait;
  return wait <= ((*code)->wait ? (*code)->wait->max : 365);
}

absl::Status ImportParser::KeepActivity(int line, Month month,
                                        const ActivityCode& code,
                                        const ActivityView& view) {
  // The measures a row counts towards depend only on these: note the lines
  // once per combination, not per row.
  const uint64_t key = (static_cast<uint64_t>(month.index()) << 32) |
                       (static_cast<uint64_t>(code.id) << 2) |
                       (view.subject_ref.empty() ? 0 : 1) |
                       (view.wait_days >= 0 ? 2 : 0);
  if (lines_noted_.insert(key).second) {
    NoteLines(month.ToString(), MeasuresOf(view.ToRow()), line, &out_);
  }
  if (sink_ != nullptr) return sink_->AddView(month, view);
  out_.activity[month.ToString()].push_back(view.ToRow());
  return absl::OkStatus();
}

absl::Status ImportParser::ReadActivityRow(RowReader& row) {
  {
    ActivityView view;
    Month month;
    const ActivityCode* code = nullptr;
    if (QuickActivityRow(row, &view, &month, &code)) {
      return KeepActivity(row.line(), month, *code, view);
    }
  }
  // Something is wrong or unusual: the checks in full, naming each
  // problem.
  ActivityRow r;
  r.date = row.Get("date");
  Month month;
  CheckDate(row, r.date, ctx_, &month);
  const std::string activity = row.Get("activity");
  const ActivityCode& code = Activity(activity);
  // Named by the catalogue's string, copied into the row only when kept:
  // most names are too long for a string's inline buffer.
  if (code.name.empty()) {
    row.Fail("activity",
             absl::StrCat("unknown activity '", Excerpt(activity), "'"));
  }
  r.client_org = absl::AsciiStrToUpper(row.Get("client_org"));
  if (r.client_org.empty()) r.client_org = ctx_.trust;
  CheckId(row, "client_org", r.client_org);
  r.subject_ref = row.Get("subject_ref");
  CheckId(row, "subject_ref", r.subject_ref);
  std::string days = row.Get("wait_days");
  if (!days.empty()) {
    double max = code.wait ? code.wait->max : 365;
    if (!ParseWholeNumber(days, &r.wait_days)) {
      row.Fail("wait_days", absl::StrCat("expected a whole number of days, "
                                         "got '",
                                         Excerpt(days), "'"));
    } else if (r.wait_days < 0 || r.wait_days > max) {
      row.Fail("wait_days",
               absl::StrCat("wait_days must be 0 to ", max, ", got ", days));
    }
  }
  if (!row.ok()) return absl::OkStatus();
  ActivityView view = ViewOf(r);
  view.activity = code.name;
  return KeepActivity(row.line(), month, code, view);
}

absl::Status CheckImportSize(absl::string_view file_name, size_t bytes) {
  if (bytes <= static_cast<size_t>(kMaxImportBytes)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s is %.1f MiB, more than the %d MiB one import can take: split it "
      "by month (one file per month, say) and import each file; an import "
      "replaces the months it contains, so keep all of a month's rows in "
      "one file",
      Excerpt(file_name, 200), bytes / 1048576.0, kMaxImportBytes >> 20));
}

void NameLines(const ParsedImport& parsed,
               std::vector<v1::RowProblem>* warnings) {
  for (v1::RowProblem& w : *warnings) {
    if (w.line() != 0 || w.period().empty()) continue;
    auto period = parsed.lines.find(w.period());
    if (period == parsed.lines.end()) continue;
    auto line = period->second.find(w.column());
    if (line != period->second.end()) w.set_line(line->second);
  }
}

ImportedRecords RecordsOf(const ParsedImport& parsed) {
  return ImportedRecords{.staffing = parsed.staffing,
                         .activity = parsed.activity,
                         .profile = parsed.profile};
}

void ReportParse(const ParsedImport& parsed, v1::ImportResponse* response) {
  response->set_rows_read(parsed.rows_read);
  for (const auto& e : parsed.errors) *response->add_errors() = e;
  response->set_errors_total(parsed.errors_total);
  for (const auto& w : parsed.warnings) *response->add_warnings() = w;
}

}  // namespace ohfed::agent
