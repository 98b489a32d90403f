// The compact form of a query's answer read by a client (common/
// query_rows.h); that the aggregator's compact answer expands to its tidy
// one: tests/aggregator/query_engine_test.cc; asked over gRPC:
// query_answer_cache_test.cc; `ohfed query`: tests/cli/query_client_test.cc.
#include "common/query_rows.h"

#include <string>
#include <utility>

#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;

// Two rows of one unit: a sum and a suppressed max.
v1::CompactQueryResponse Compact() {
  v1::CompactQueryResponse r;
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

// A server that predates the compact form sends a QueryResponse, which
// parses as a CompactQueryResponse without `compact`: read as it is.
TEST(QueryRowsTest, ReadsATidyAnswerAsItIs) {
  auto tidy = ExpandCompactRows(Compact());
  OHFED_ASSERT_OK(tidy);
  v1::CompactQueryResponse as_sent;
  ASSERT_TRUE(as_sent.ParseFromString(tidy->SerializeAsString()));
  EXPECT_FALSE(as_sent.has_compact());
  auto r = ExpandCompactRows(as_sent);
  OHFED_ASSERT_OK(r);
  EXPECT_EQ(r->SerializeAsString(), tidy->SerializeAsString());
}

// And a server that predates it reads the request as a QueryRequest.
TEST(QueryRowsTest, TheFormFollowsTheRequestsFields) {
  v1::QueryRequest req;
  req.set_scope("national");
  req.set_period("2026");
  req.add_stats("sum");
  v1::QueryForm form;
  form.set_compact(true);
  const std::string bytes = req.SerializeAsString() + form.SerializeAsString();
  v1::QueryRequest old;
  ASSERT_TRUE(old.ParseFromString(bytes));
  old.DiscardUnknownFields();  // field 6, kept aside and not read
  EXPECT_EQ(old.ShortDebugString(), req.ShortDebugString());
  v1::QueryForm read;
  ASSERT_TRUE(read.ParseFromString(bytes));
  EXPECT_TRUE(read.compact());
}

TEST(QueryRowsTest, RefusesInconsistentColumns) {
  auto expect_refused = [](v1::CompactQueryResponse r, const char* what) {
    EXPECT_THAT(ExpandCompactRows(std::move(r)).status(),
                StatusIs(absl::StatusCode::kInternal, what));
  };
  v1::CompactQueryResponse r = Compact();
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

}  // namespace
}  // namespace ohfed
