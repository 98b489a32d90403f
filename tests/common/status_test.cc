#include "common/status.h"

#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;

TEST(StatusTest, RocksCodesMapToCanonicalCodes) {
  OHFED_EXPECT_OK(FromRocks(rocksdb::Status::OK()));
  EXPECT_THAT(FromRocks(rocksdb::Status::NotFound("k"), "get"),
              StatusIs(absl::StatusCode::kNotFound, "get: NotFound: k"));
  EXPECT_THAT(FromRocks(rocksdb::Status::Corruption("bad block")),
              StatusIs(absl::StatusCode::kDataLoss, "bad block"));
  EXPECT_THAT(FromRocks(rocksdb::Status::IOError("disk")),
              StatusIs(absl::StatusCode::kUnavailable, "disk"));
  EXPECT_THAT(FromRocks(rocksdb::Status::InvalidArgument("x")),
              StatusIs(absl::StatusCode::kInvalidArgument, "x"));
}

TEST(StatusTest, GrpcRoundTripKeepsCodeAndMessage) {
  absl::Status s = absl::PermissionDeniedError("trust RJ1 may not submit");
  grpc::Status g = ToGrpc(s);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(FromGrpc(g), s);
  OHFED_EXPECT_OK(FromGrpc(grpc::Status::OK));
}

absl::StatusOr<int> Half(int x) {
  if (x % 2) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  OHFED_ASSIGN_OR_RETURN(int h, Half(x));
  OHFED_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

absl::Status CheckEven(int x) {
  OHFED_RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}

TEST(StatusTest, MacrosPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_THAT(Quarter(6), StatusIs(absl::StatusCode::kInvalidArgument, "odd"));
  OHFED_EXPECT_OK(CheckEven(4));
  EXPECT_THAT(CheckEven(3),
              StatusIs(absl::StatusCode::kInvalidArgument, "odd"));
}

}  // namespace
}  // namespace ohfed
