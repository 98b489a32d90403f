#include <gperftools/malloc_extension.h>
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

#include "aggregator/huge_heap.h"

namespace ohfed::aggregator {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

// Wraps tcmalloc's own system allocator (sbrk, then mmap): each piece it
// asks for is rounded up to whole huge pages, aligned on one, and advised.
class HugePageSysAllocator : public SysAllocator {
 public:
  explicit HugePageSysAllocator(SysAllocator* inner) : inner_(inner) {}

  void* Alloc(size_t size, size_t* actual_size, size_t alignment) override {
    if (size > SIZE_MAX - kHugePage) return nullptr;
    const size_t rounded = (size + kHugePage - 1) & ~(kHugePage - 1);
    void* p = inner_->Alloc(rounded, actual_size,
                            alignment < kHugePage ? kHugePage : alignment);
    // Advice only: if the kernel refuses it, the memory is still good.
    if (p != nullptr) madvise(p, *actual_size, MADV_HUGEPAGE);
    return p;
  }

 private:
  SysAllocator* const inner_;
};

}  // namespace

bool AdviseHugePagesForHeap() {
  MallocExtension* malloc = MallocExtension::instance();
  // Never freed: tcmalloc calls it for as long as the process runs.
  static auto* const huge =
      new HugePageSysAllocator(malloc->GetSystemAllocator());
  malloc->SetSystemAllocator(huge);
  return true;
}

}  // namespace ohfed::aggregator
