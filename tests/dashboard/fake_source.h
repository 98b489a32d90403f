// A QuerySource over an in-memory View (tests/aggregator/query_fake_view.h)
// for dashboard tests: the real query engine and completeness answers
// (aggregator/query_engine.h, aggregator/query_completeness.h), with their
// disclosure control, at a fixed "now".
#ifndef OHFED_TESTS_DASHBOARD_FAKE_SOURCE_H_
#define OHFED_TESTS_DASHBOARD_FAKE_SOURCE_H_

#include "absl/time/time.h"
#include "aggregator/query_completeness.h"
#include "aggregator/query_engine.h"
#include "dashboard/query_source.h"
#include "tests/aggregator/query_fake_view.h"

namespace ohfed::dashboard::testing {

class FakeSource : public QuerySource {
 public:
  explicit FakeSource(
      absl::Time now,
      std::shared_ptr<const Catalogue> catalogue = Catalogue::Default())
      : now_(now),
        view_(aggregator::testing::TestRegistry(), std::move(catalogue)) {}

  absl::StatusOr<v1::QueryResponse> Query(
      const v1::QueryRequest& request) const override {
    ++queries_;
    return aggregator::RunQuery(view_, request);
  }
  absl::StatusOr<v1::CompletenessResponse> Completeness(
      const v1::CompletenessRequest& request) const override {
    return aggregator::RunCompleteness(view_, request, now_);
  }
  const Registry& registry() const override { return view_.registry(); }
  const Catalogue& catalogue() const override { return view_.catalogue(); }

  aggregator::testing::FakeView& view() { return view_; }
  int queries() const { return queries_; }

 private:
  absl::Time now_;
  aggregator::testing::FakeView view_;
  mutable int queries_ = 0;
};

}  // namespace ohfed::dashboard::testing

#endif  // OHFED_TESTS_DASHBOARD_FAKE_SOURCE_H_
