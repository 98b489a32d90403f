// CheckListenAddress: syntax, unix path length, and the probe bind.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/transport.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::testing::HasSubstr;

TEST(CheckListenAddress, MalformedAddressesNameTheProblem) {
  for (const std::string bad : {"7494", ":7400", "127.0.0.1:", "127.0.0.1:74x",
                                "127.0.0.1:99999", "::1:7400", "unix:"}) {
    absl::Status s = CheckListenAddress(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("malformed address")) << bad;
  }
}

TEST(CheckListenAddress, AcceptsFreeAndAnyPorts) {
  OHFED_EXPECT_OK(CheckListenAddress("127.0.0.1:0"));
  OHFED_EXPECT_OK(CheckListenAddress("[::1]:0"));
  OHFED_EXPECT_OK(CheckListenAddress("localhost:0"));
  OHFED_EXPECT_OK(CheckListenAddress("unix:/tmp/ohfed.sock"));
}

TEST(CheckListenAddress, PortInUseIsUnavailableNamingThePort) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  absl::Status s = CheckListenAddress(absl::StrCat("127.0.0.1:", port));
  close(fd);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(),
              HasSubstr(absl::StrCat("port ", port, " is already in use")));
}

TEST(CheckListenAddress, UnixPathLongerThanASocketAllows) {
  std::string path = "unix:/tmp/" + std::string(120, 'a');
  absl::Status s = CheckListenAddress(path);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("longer than the 107"));
}

TEST(CheckListenAddress, UnixSocketInAMissingDirectoryNamesIt) {
  absl::Status s = CheckListenAddress("unix:/nonexistent-ohfed-dir/agent.sock");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("directory /nonexistent-ohfed-dir"));
}

}  // namespace
}  // namespace ohfed
