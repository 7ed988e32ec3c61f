// Hostile or mistaken settings and arguments get a clear refusal, never a crash.
#include "local_fixture.hpp"

namespace sbx::local_test {
namespace {

class LocalTransportConfig : public LocalTransportTest {
 protected:
  // Opens with config; expects SBX_ERR_INVALID_ARGUMENT and a message containing `mentions`.
  void expect_refused(std::string_view config, std::string_view mentions) {
    TransportInstance t;
    FakeHost::clear_error();
    EXPECT_EQ(TransportInstance::open(vt_, config, &t), SBX_ERR_INVALID_ARGUMENT) << config;
    EXPECT_FALSE(t);
    EXPECT_NE(FakeHost::last_error().find(mentions), std::string::npos)
        << "config " << config << " gave message: " << FakeHost::last_error();
  }
};

TEST_F(LocalTransportConfig, EmptyAndDefaultConfigsOpen) {
  open("");
  open("  \n");
  open("{}");
  open(R"({"buffer_bytes": 1, "backlog": 1})");
}

TEST_F(LocalTransportConfig, BadConfigsAreRefusedWithAReason) {
  expect_refused("not json", "wanted a JSON object");
  expect_refused("[1,2]", "wanted a JSON object");
  expect_refused(R"({"buffer_bytes": 0})", "\"buffer_bytes\" must be an integer from 1");
  expect_refused(R"({"buffer_bytes": -5})", "\"buffer_bytes\"");
  expect_refused(R"({"buffer_bytes": "4M"})", "\"buffer_bytes\"");
  expect_refused(R"({"buffer_bytes": 1.5})", "\"buffer_bytes\"");
  expect_refused(R"({"buffer_bytes": 99999999999999})", "\"buffer_bytes\"");
  expect_refused(R"({"backlog": 0})", "\"backlog\"");
  expect_refused(R"({"bufer_bytes": 10})", "unknown key \"bufer_bytes\"");
}

TEST_F(LocalTransportConfig, BadAddressesAreRefused) {
  TransportListener l;
  TransportConnection c;
  FakeHost::clear_error();
  EXPECT_EQ(transport_.listen("", &l), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(FakeHost::last_error().find("empty"), std::string::npos);
  EXPECT_EQ(transport_.connect("", 100, &c), SBX_ERR_INVALID_ARGUMENT);
  std::string huge(5000, 'n');
  FakeHost::clear_error();
  EXPECT_EQ(transport_.listen(huge, &l), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(FakeHost::last_error().find("longer than"), std::string::npos);
  EXPECT_FALSE(l);
  EXPECT_FALSE(c);
}

TEST_F(LocalTransportConfig, AddressesAreBytesNotText) {
  // A name with a NUL, a newline and invalid UTF-8 is one exact name, distinct from its prefix.
  std::string odd("a\0b\n\xff", 5);
  TransportListener l = listen(transport_, odd);
  TransportConnection c;
  EXPECT_EQ(transport_.connect(std::string("a"), 100, &c), SBX_ERR_NOT_FOUND);
  EXPECT_EQ(transport_.connect(odd, 100, &c), SBX_OK);
}

TEST_F(LocalTransportConfig, RecvWithoutRoomIsRefused) {
  std::string address = name("room");
  TransportListener l = listen(transport_, address);
  ConnectedPair p = testkit::connect_pair(transport_, l, address);
  ASSERT_TRUE(p.ok());
  uint8_t b;
  size_t got = 7;
  FakeHost::clear_error();
  EXPECT_EQ(p.server.recv(&b, 0, &got, 0), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_FALSE(FakeHost::last_error().empty());
  EXPECT_EQ(p.server.recv(nullptr, 1, &got, 0), SBX_ERR_INVALID_ARGUMENT);
}

TEST_F(LocalTransportConfig, DescriptorDescribesTheLocalTransport) {
  const sbx_plugin_descriptor& d = plugin_->descriptor();
  EXPECT_STREQ(d.name, "local");
  EXPECT_EQ(d.kind, static_cast<uint32_t>(SBX_KIND_TRANSPORT));
  EXPECT_EQ(d.capabilities, SBX_CAP_LISTEN);
}

}  // namespace
}  // namespace sbx::local_test
