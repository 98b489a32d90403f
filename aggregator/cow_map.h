// A map by string key whose copies share its entries until one of them
// changes them, a chunk at a time: what the in-memory index (index.h) keeps
// per period (units by trust, rollup blocks by node) and per trust.
//
// The entries live in kChunks hash maps, by the key's hash, each behind a
// shared pointer. Copying the map copies kChunks pointers; a change copies
// the one chunk it changes, and only while a copy still shares it. A commit
// publishes a snapshot of the index and then changes a few units of each of
// its periods: with one hash map per period it copied every unit and every
// node of each period it touched (~200 and ~50 entries, each key hashed
// again and copied) and freed the old maps with the snapshot; now it copies
// the chunks holding what it changes.
//
// Not thread-safe: one writer changes a map; a copy made by that writer may
// then be read, and dropped, on any thread.
#ifndef OHFED_AGGREGATOR_COW_MAP_H_
#define OHFED_AGGREGATOR_COW_MAP_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace ohfed::aggregator {

// Whether `p` may be changed in place: no copy shares it. Copies are only
// made by the single writer, so a count of 1 cannot grow meanwhile; the
// fence orders the changes after a copy's last reads, which its release of
// the count published.
template <class T>
bool Unshared(const std::shared_ptr<T>& p) {
  if (p.use_count() != 1) return false;
  std::atomic_thread_fence(std::memory_order_acquire);
  return true;
}

template <typename V>
class CowMap {
 public:
  // nullptr when absent.
  const V* Find(absl::string_view key) const {
    const Chunk* chunk = chunks_[ChunkOf(key)].get();
    if (chunk == nullptr) return nullptr;
    auto it = chunk->find(key);
    return it == chunk->end() ? nullptr : &it->second;
  }
  bool Contains(absl::string_view key) const { return Find(key) != nullptr; }

  // The value of `key` (value-initialized if it was absent), in a chunk no
  // copy shares; `inserted` (unless nullptr) says whether it was absent.
  V& Mutable(absl::string_view key, bool* inserted = nullptr) {
    Chunk& chunk = MutableChunk(ChunkOf(key));
    auto [it, added] = chunk.try_emplace(key);
    if (added) ++size_;
    if (inserted != nullptr) *inserted = added;
    return it->second;
  }
  // Removes `key` if present; whether it was.
  bool Erase(absl::string_view key) {
    const size_t c = ChunkOf(key);
    if (chunks_[c] == nullptr || !chunks_[c]->contains(key)) return false;
    MutableChunk(c).erase(key);
    --size_;
    return true;
  }
  void Clear() { *this = CowMap(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // f(key, value) for every entry, in no particular order.
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& chunk : chunks_) {
      if (chunk == nullptr) continue;
      for (const auto& [key, value] : *chunk) f(key, value);
    }
  }
  // f(key, value&) for every entry, each chunk first made unshared.
  template <typename F>
  void ForEachMutable(F&& f) {
    for (size_t c = 0; c < kChunks; ++c) {
      if (chunks_[c] == nullptr) continue;
      for (auto& [key, value] : MutableChunk(c)) f(key, value);
    }
  }

 private:
  // 16 chunks: a period's ~200 units ~13 a chunk, its ~50 rollup nodes ~3.
  static constexpr size_t kChunks = 16;
  using Chunk = absl::flat_hash_map<std::string, V>;

  // The hash's top bits: the chunk's own table places keys by its low ones.
  static size_t ChunkOf(absl::string_view key) {
    return static_cast<size_t>(absl::Hash<absl::string_view>{}(key) >> 60);
  }
  Chunk& MutableChunk(size_t c) {
    std::shared_ptr<Chunk>& chunk = chunks_[c];
    if (chunk == nullptr) {
      chunk = std::make_shared<Chunk>();
    } else if (!Unshared(chunk)) {
      chunk = std::make_shared<Chunk>(*chunk);
    }
    return *chunk;
  }

  std::array<std::shared_ptr<Chunk>, kChunks> chunks_;
  size_t size_ = 0;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_COW_MAP_H_
