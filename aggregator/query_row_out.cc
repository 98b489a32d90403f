#include "aggregator/query_row_out.h"

#include <algorithm>

#include "aggregator/query_wire.h"

namespace ohfed::aggregator {
namespace {

// The index of `name` in `table` (a repeated string field), appended to it
// the first time.
uint32_t IndexOf(const std::string& name,
                 absl::flat_hash_map<std::string, uint32_t>& index,
                 google::protobuf::RepeatedPtrField<std::string>& table) {
  auto [it, added] = index.try_emplace(name, table.size());
  if (added) *table.Add() = name;
  return it->second;
}

}  // namespace

RowOut::RowOut(v1::QueryResponse* message, bool compact) : message_(message) {
  if (compact) compact_ = message->mutable_compact();
}

RowOut::RowOut(std::string* bytes, bool compact) : bytes_(bytes) {
  if (compact) compact_ = &compact_rows_;
}

void RowOut::Add(const RowText& text, size_t u, const std::string& measure,
                 const std::string& stat, const v1::Row& value,
                 uint32_t n_units) {
  ++rows_;
  if (compact_ != nullptr) {
    return AddCompact(text, u, measure, stat, value, n_units);
  }
  AddTidy(text, u, measure, stat, value, n_units);
}

void RowOut::AddTidy(const RowText& text, size_t u, const std::string& measure,
                     const std::string& stat, const v1::Row& value,
                     uint32_t n_units) {
  if (message_ != nullptr) {
    v1::Row* row = message_->add_rows();
    row->set_scope(text.scope);
    row->set_unit(text.units[u].first);
    row->set_unit_name(text.units[u].second);
    row->set_period(text.period);
    row->set_measure(measure);
    row->set_stat(stat);
    row->set_value(value.value());
    row->set_suppressed(value.suppressed());
    row->set_n_units(n_units);
    return;
  }
  row_.assign(text.heads[u]);
  wire::String(5, measure, &row_);
  wire::String(6, stat, &row_);
  wire::Double(7, value.value(), &row_);
  wire::Bool(8, value.suppressed(), &row_);
  wire::Uint(9, n_units, &row_);
  wire::Message(1, row_, bytes_);
}

void RowOut::AddCompact(const RowText& text, size_t u,
                        const std::string& measure, const std::string& stat,
                        const v1::Row& value, uint32_t n_units) {
  if (unit_index_.size() < text.units.size()) {
    unit_index_.resize(text.units.size(), -1);
  }
  if (unit_index_[u] < 0) {
    unit_index_[u] = compact_->units_size();
    compact_->add_units(text.units[u].first);
    compact_->add_unit_names(text.units[u].second);
    compact_->set_scope(text.scope);
    compact_->set_period(text.period);
  }
  compact_->add_unit(static_cast<uint32_t>(unit_index_[u]));
  compact_->add_measure(
      IndexOf(measure, measure_index_, *compact_->mutable_measures()));
  compact_->add_stat(IndexOf(stat, stat_index_, *compact_->mutable_stats()));
  compact_->add_value(value.value());
  compact_->add_suppressed(value.suppressed());
  compact_->add_n_units(n_units);
}

void RowOut::Finish(const std::string& catalogue_version,
                    const std::string& registry_version) {
  if (message_ != nullptr) {
    message_->set_catalogue_version(catalogue_version);
    message_->set_registry_version(registry_version);
    return;
  }
  wire::String(2, catalogue_version, bytes_);
  wire::String(3, registry_version, bytes_);
  constexpr int kCompact = 5;  // QueryResponse.compact
  if (compact_ != nullptr) {
    wire::Message(kCompact, compact_->SerializeAsString(), bytes_);
  }
}

void RowOut::Reserve(size_t rows, size_t row_size) {
  rows = std::min(rows, kMaxReserve);
  if (compact_ != nullptr) {
    compact_->mutable_unit()->Reserve(rows);
    compact_->mutable_measure()->Reserve(rows);
    compact_->mutable_stat()->Reserve(rows);
    compact_->mutable_value()->Reserve(rows);
    compact_->mutable_suppressed()->Reserve(rows);
    compact_->mutable_n_units()->Reserve(rows);
    return;
  }
  if (bytes_ != nullptr) bytes_->reserve(rows * row_size);
}

}  // namespace ohfed::aggregator
