#include "aggregator/query_answer_cache.h"

#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace ohfed::aggregator {
namespace {

// The same View as `view` (by address while it is alive: an expired one
// cannot be, and a new View at a freed one's address must not match it).
bool SameView(const std::weak_ptr<const View>& held, const View* address,
              const std::shared_ptr<const View>& view) {
  return view != nullptr && address == view.get() && !held.expired() &&
         !held.owner_before(view) && !view.owner_before(held);
}

}  // namespace

std::shared_ptr<const AnswerCache::Answer> AnswerCache::Lookup(
    const std::shared_ptr<const View>& view, absl::string_view key,
    absl::string_view live) const {
  absl::MutexLock l(&mu_);
  if (!SameView(view_, view_address_, view)) return nullptr;
  auto it = answers_.find(key);
  if (it == answers_.end() || it->second->live != live) return nullptr;
  return it->second;
}

void AnswerCache::Insert(const std::shared_ptr<const View>& view,
                         std::string key,
                         std::shared_ptr<const Answer> answer) {
  if (view == nullptr || answer == nullptr) return;
  const size_t size = key.size() + answer->bytes.size() + answer->live.size();
  absl::MutexLock l(&mu_);
  if (!SameView(view_, view_address_, view)) {
    answers_.clear();
    bytes_ = 0;
    view_ = view;
    view_address_ = view.get();
  }
  if (answers_.size() >= max_entries_ || bytes_ + size > max_bytes_) return;
  auto [it, fresh] = answers_.try_emplace(std::move(key), answer);
  if (fresh) {
    bytes_ += size;
  } else {
    it->second = std::move(answer);  // same size: the same request's answer
  }
}

size_t AnswerCache::size() const {
  absl::MutexLock l(&mu_);
  return answers_.size();
}

void AppendWarning(absl::string_view warning, std::string* bytes) {
  if (warning.empty()) return;
  using google::protobuf::internal::WireFormatLite;
  constexpr int kWarning = 4;  // QueryResponse and CompletenessResponse
  google::protobuf::io::StringOutputStream raw(bytes);
  google::protobuf::io::CodedOutputStream out(&raw);
  WireFormatLite::WriteString(kWarning, std::string(warning), &out);
}

}  // namespace ohfed::aggregator
