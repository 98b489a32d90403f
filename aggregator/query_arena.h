// A gRPC message allocator that puts each call's request and response on
// its own protobuf Arena (issue 14 figures 3 and 4). A query's answer is
// thousands of rows of six strings each (a heavy one: 2.6 MB); built on the
// heap, malloc and free of those strings were a third of a query's CPU
// (query_engine_bench under perf), and with the process's two malloc
// arenas (common: LimitMallocArenas) a heavy query's allocations contended
// with light queries' and commits'. On an Arena they are bump allocations
// in a few large blocks, all freed at once when gRPC releases the call.
//
// Set on a callback service with its SetMessageAllocatorFor_<Method>; the
// allocator must outlive the server. Thread-safe (it holds no state).
#ifndef OHFED_AGGREGATOR_QUERY_ARENA_H_
#define OHFED_AGGREGATOR_QUERY_ARENA_H_

#include <google/protobuf/arena.h>
#include <grpcpp/support/message_allocator.h>

namespace ohfed::aggregator {

template <typename Request, typename Response>
class ArenaMessageAllocator final
    : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override {
    return new Holder;
  }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options()) {
      this->set_request(
          google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(
          google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    // Blocks grow from 8 KiB to 1 MiB, so a 2.6 MB answer takes a few
    // dozen blocks and a refused call one small one.
    static google::protobuf::ArenaOptions Options() {
      google::protobuf::ArenaOptions options;
      options.start_block_size = 8 << 10;
      options.max_block_size = 1 << 20;
      return options;
    }
    google::protobuf::Arena arena_;
  };
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_ARENA_H_
