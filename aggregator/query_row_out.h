// Where a query's rows go (aggregator/query_engine.cc makes them): into a
// response message (RunQuery) or serialized as that message (SerializeQuery),
// as tidy Rows or, when the request asks for it, as QueryResponse.compact,
// whose tables spell each unit, measure and statistic once.
#ifndef OHFED_AGGREGATOR_QUERY_ROW_OUT_H_
#define OHFED_AGGREGATOR_QUERY_ROW_OUT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

// What every row of one unit shares, made once per query.
struct RowText {
  std::string scope;                                       // the plan's
  std::string period;                                      // the plan's
  std::vector<std::pair<std::string, std::string>> units;  // (unit, name)
  std::vector<std::string> heads;  // per unit: Row fields 1-4, encoded
};

// Rows in the order Add is called, in `rows` or, with `compact`, in
// `compact`; serialized, byte for byte what the message form with the same
// rows serializes to. Not thread-safe; `message` and `bytes` must outlive it.
class RowOut {
 public:
  RowOut(v1::QueryResponse* message, bool compact);
  RowOut(std::string* bytes, bool compact);

  // Row fields 1-4 from `text` and its unit `u`, the others from the rest;
  // `value` gives the value and whether it is suppressed.
  void Add(const RowText& text, size_t u, const std::string& measure,
           const std::string& stat, const v1::Row& value, uint32_t n_units);
  // Then the response's fields after its rows.
  void Finish(const std::string& catalogue_version,
              const std::string& registry_version);
  int rows() const { return rows_; }
  // Whether tidy rows are serialized, which use RowText::heads.
  bool wants_heads() const { return bytes_ != nullptr && compact_ == nullptr; }
  // Room for about `rows` rows of `row_size` bytes (tidy, serialized), so the
  // answer is not copied as it grows.
  void Reserve(size_t rows, size_t row_size);

 private:
  void AddTidy(const RowText& text, size_t u, const std::string& measure,
               const std::string& stat, const v1::Row& value, uint32_t n_units);
  void AddCompact(const RowText& text, size_t u, const std::string& measure,
                  const std::string& stat, const v1::Row& value,
                  uint32_t n_units);

  static constexpr size_t kMaxReserve = 20000;  // rows
  v1::QueryResponse* const message_ = nullptr;
  std::string* const bytes_ = nullptr;
  v1::CompactRows compact_rows_;  // serialized: written by Finish
  // With `compact`: message_'s, or compact_rows_ when serialized.
  v1::CompactRows* compact_ = nullptr;
  std::vector<int> unit_index_;  // RowText unit -> compact table index, or -1
  absl::flat_hash_map<std::string, uint32_t> measure_index_, stat_index_;
  std::string row_;  // the tidy row being encoded
  int rows_ = 0;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_ROW_OUT_H_
