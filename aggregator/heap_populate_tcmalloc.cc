#include <gperftools/malloc_extension.h>
#include <sys/mman.h>

#include <cstddef>

#include "aggregator/heap_populate.h"

namespace ohfed::aggregator {
namespace {

// Wraps tcmalloc's own system allocator (sbrk, then mmap) and populates
// each piece it hands out.
class PopulatingSysAllocator : public SysAllocator {
 public:
  explicit PopulatingSysAllocator(SysAllocator* inner) : inner_(inner) {}

  void* Alloc(size_t size, size_t* actual_size, size_t alignment) override {
    void* p = inner_->Alloc(size, actual_size, alignment);
    // Advice only: if the kernel refuses it, pages come when touched.
    if (p != nullptr) madvise(p, *actual_size, MADV_POPULATE_WRITE);
    return p;
  }

 private:
  SysAllocator* const inner_;
};

}  // namespace

bool PopulateHeapGrowth() {
  MallocExtension* malloc = MallocExtension::instance();
  // Never freed: tcmalloc calls it for as long as the process runs.
  static auto* const populating =
      new PopulatingSysAllocator(malloc->GetSystemAllocator());
  malloc->SetSystemAllocator(populating);
  return true;
}

}  // namespace ohfed::aggregator
