// The compact form of a query's and a completeness answer read by a client
// (common/query_rows.h); that the aggregator's compact answer expands to its
// tidy one: tests/aggregator/query_engine_test.cc,
// query_completeness_test.cc and query_answer_cache_test.cc; asked over
// gRPC: query_answer_cache_test.cc; `ohfed query`:
// tests/cli/query_client_test.cc.
#include "common/query_rows.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;

// Two rows of one unit: a sum and a suppressed max.
v1::QueryResponse Compact() {
  v1::QueryResponse r;
  r.set_catalogue_version("2026.1");
  r.set_warning("partial");
  v1::CompactRows* c = r.mutable_compact();
  c->set_scope("ics:QKK");
  c->set_period("2026-01");
  c->add_units("RJ1");
  c->add_unit_names("Guy and St Thomas");
  c->add_measures("activity.count.immunisation");
  c->add_stats("sum");
  c->add_stats("max");
  for (uint32_t stat : {0, 1}) {
    c->add_unit(0);
    c->add_measure(0);
    c->add_stat(stat);
    c->add_value(stat == 0 ? 40 : 0);
    c->add_suppressed(stat == 1);
    c->add_n_units(2);
  }
  return r;
}

TEST(QueryRowsTest, ExpandsEachRowInOrder) {
  auto r = ExpandCompactRows(Compact());
  OHFED_ASSERT_OK(r);
  ASSERT_EQ(r->rows_size(), 2);
  EXPECT_EQ(r->rows(0).ShortDebugString(),
            "scope: \"ics:QKK\" unit: \"RJ1\" unit_name: \"Guy and St Thomas\" "
            "period: \"2026-01\" measure: \"activity.count.immunisation\" "
            "stat: \"sum\" value: 40 n_units: 2");
  EXPECT_EQ(r->rows(1).stat(), "max");
  EXPECT_TRUE(r->rows(1).suppressed());
  EXPECT_EQ(r->catalogue_version(), "2026.1");
  EXPECT_EQ(r->warning(), "partial");
}

// A server that predates the compact form sends tidy rows: read as they are.
TEST(QueryRowsTest, ReadsATidyAnswerAsItIs) {
  auto tidy = ExpandCompactRows(Compact());
  OHFED_ASSERT_OK(tidy);
  EXPECT_FALSE(tidy->has_compact());
  auto r = ExpandCompactRows(*tidy);
  OHFED_ASSERT_OK(r);
  EXPECT_EQ(r->SerializeAsString(), tidy->SerializeAsString());
}

// A field of the wire by hand (field numbers below 16, lengths below 128):
// its tag, then for a length-delimited field its length and bytes.
std::string Field(int field, absl::string_view bytes) {
  return absl::StrCat(std::string(1, static_cast<char>(field << 3 | 2)),
                      std::string(1, static_cast<char>(bytes.size())), bytes);
}

// The bytes of Compact()'s rows field by field, as the seventh round's
// CompactRows (then in proto/ohfed/v1/query_compact.proto) encoded them.
std::string CompactRowsOnTheWire() {
  using namespace std::string_literals;
  return Field(1, "ics:QKK") + Field(2, "2026-01") + Field(3, "RJ1") +
         Field(4, "Guy and St Thomas") +
         Field(5, "activity.count.immunisation") + Field(6, "sum") +
         Field(6, "max") + Field(7, "\0\0"s) + Field(8, "\0\0"s) +
         Field(9, "\0\1"s) +
         Field(10, "\0\0\0\0\0\0\x44\x40\0\0\0\0\0\0\0\0"s) +
         Field(11, "\0\1"s) + Field(12, "\2\2");
}

// The compact form's wire is the seventh round's, when its fields were in
// a file of their own (query_compact.proto, with QueryForm and
// CompactQueryResponse): the request's field 6, which a client sent after
// the request's fields; the response's field 5, which a server sent after the
// versions, with the warning appended after it. Either side of that round
// reads what this one sends, and this one reads what that one sent.
TEST(QueryRowsTest, TheCompactFormsWireIsTheSeventhRounds) {
  const std::string answer_then = Field(2, "2026.1") +
                                  Field(5, CompactRowsOnTheWire()) +
                                  Field(4, "partial");
  v1::QueryResponse read;
  ASSERT_TRUE(read.ParseFromString(answer_then));
  EXPECT_EQ(read.SerializeAsString(), Compact().SerializeAsString());
  EXPECT_EQ(Compact().compact().SerializeAsString(), CompactRowsOnTheWire());
  EXPECT_EQ(Compact().SerializeAsString(),
            Field(2, "2026.1") + Field(4, "partial") +
                Field(5, CompactRowsOnTheWire()));

  v1::QueryRequest req;
  req.set_scope("national");
  req.set_period("2026");
  req.add_stats("sum");
  const std::string tidy_request =
      Field(1, "national") + Field(2, "2026") + Field(5, "sum");
  EXPECT_EQ(req.SerializeAsString(), tidy_request);
  req.set_compact(true);
  const std::string request_then = tidy_request + "\x30\x01";
  EXPECT_EQ(req.SerializeAsString(), request_then);
  v1::QueryRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(request_then));
  EXPECT_EQ(parsed.ShortDebugString(), req.ShortDebugString());
}

TEST(QueryRowsTest, RefusesInconsistentColumns) {
  auto expect_refused = [](v1::QueryResponse r, const char* what) {
    EXPECT_THAT(ExpandCompactRows(std::move(r)).status(),
                StatusIs(absl::StatusCode::kInternal, what));
  };
  v1::QueryResponse r = Compact();
  r.mutable_compact()->set_stat(1, 2);
  expect_refused(r, "stat index 2 outside its table of 2");
  r = Compact();
  r.mutable_compact()->set_unit(0, 1);
  expect_refused(r, "unit index 1 outside its table of 1");
  r = Compact();
  r.mutable_compact()->add_measure(0);
  expect_refused(r, "columns of different lengths");
  r = Compact();
  r.mutable_compact()->add_units("RJ2");
  expect_refused(r, "columns of different lengths");
}

// One month of two trusts as columns: T1 reported (revision 3, refused
// upstream), T2 not.
v1::CompletenessResponse CompactCompleteness() {
  v1::CompletenessResponse r;
  r.set_scope("ics:I1");
  r.set_warning("partial");
  for (const char* code : {"T1", "T2"}) {
    v1::TrustCompleteness* t = r.add_trusts();
    t->set_trust(code);
    t->set_trust_name(absl::StrCat("Trust ", code));
    t->set_last_received_unix_ms(1775000000000);
    t->set_sync_state("current");
  }
  v1::PeriodCompleteness* p = r.add_periods();
  p->set_period("2026-03");
  v1::CompactTrustRows* c = p->mutable_compact();
  c->add_trust(0);
  c->add_trust(1);
  c->add_reported(true);
  c->add_reported(false);
  c->add_on_time(true);
  c->add_on_time(false);
  c->add_revision(3);
  c->add_revision(0);
  c->add_refused(0);
  c->add_reasons("refused upstream");
  return r;
}

TEST(QueryRowsTest, ExpandsCompletenessColumnsIntoTheRows) {
  auto tidy = ExpandCompactCompleteness(CompactCompleteness());
  OHFED_ASSERT_OK(tidy);
  EXPECT_EQ(tidy->trusts_size(), 0);
  EXPECT_EQ(tidy->warning(), "partial");
  ASSERT_EQ(tidy->periods_size(), 1);
  EXPECT_FALSE(tidy->periods(0).has_compact());
  ASSERT_EQ(tidy->periods(0).trusts_size(), 2);
  EXPECT_EQ(tidy->periods(0).trusts(0).ShortDebugString(),
            "trust: \"T1\" trust_name: \"Trust T1\" reported: true on_time: "
            "true last_received_unix_ms: 1775000000000 sync_state: "
            "\"current\" revision: 3 upstream_reason: \"refused upstream\"");
  // Not reported: no receipt time on the row (as the tidy answer).
  EXPECT_EQ(tidy->periods(0).trusts(1).ShortDebugString(),
            "trust: \"T2\" trust_name: \"Trust T2\" sync_state: \"current\"");
}

TEST(QueryRowsTest, RefusesInconsistentCompletenessColumns) {
  auto expect_refused = [](v1::CompletenessResponse r, const char* what) {
    EXPECT_THAT(ExpandCompactCompleteness(std::move(r)).status(),
                StatusIs(absl::StatusCode::kInternal,
                         absl::StrCat("completeness answer: 2026-03: compact "
                                      "rows: ",
                                      what)));
  };
  v1::CompletenessResponse r = CompactCompleteness();
  auto* c = r.mutable_periods(0)->mutable_compact();
  c->set_trust(1, 2);
  expect_refused(r, "trust index 2 outside its table of 2");
  r = CompactCompleteness();
  c = r.mutable_periods(0)->mutable_compact();
  c->add_revision(1);
  expect_refused(r, "columns of different lengths");
  r = CompactCompleteness();
  c = r.mutable_periods(0)->mutable_compact();
  c->add_reasons("no refusal for it");
  expect_refused(r, "columns of different lengths");
  r = CompactCompleteness();
  c = r.mutable_periods(0)->mutable_compact();
  c->set_refused(0, 2);
  expect_refused(r, "refused index 2 outside its table of 2");
  r = CompactCompleteness();
  c = r.mutable_periods(0)->mutable_compact();
  c->set_refused(0, 1);
  c->add_refused(0);
  c->add_reasons("second");
  expect_refused(r, "refused rows not in ascending order");
}

}  // namespace
}  // namespace ohfed
