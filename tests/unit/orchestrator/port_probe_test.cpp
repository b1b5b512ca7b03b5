#include "orchestrator/port_probe.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "servers.hpp"

using namespace dive::orch;

TEST(PortProbe, FreeAndHeldPortsAndTheirHolder) {
  uint16_t port = dive::testing::free_port();
  EXPECT_TRUE(port_free(port));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  EXPECT_FALSE(port_free(port));
  auto h = port_holder(port);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->pid, ::getpid());
  EXPECT_NE(describe_holder(h).find("pid " + std::to_string(::getpid())), std::string::npos);
  ::close(fd);
  EXPECT_TRUE(port_free(port));
  EXPECT_FALSE(port_holder(port));
  EXPECT_FALSE(port_free(0));
  EXPECT_FALSE(port_free(70000));
}
