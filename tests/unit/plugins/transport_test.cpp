// The transport adapter against test-pipe: listen, connect, accept, both directions, shutdown, timeouts.
#include <gmock/gmock.h>

#include <chrono>

#include "plugin_test_support.hpp"
#include "strongbox/plugins.hpp"

namespace sbx::plugins {
namespace {

using test_support::test_plugin;

class PluginsTransport : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.load_file(test_plugin("test-pipe"));
    transport_ = registry_.open_transport("test-pipe", nlohmann::json::object());
  }

  static std::string read_all(Connection& connection) {
    std::string out;
    uint8_t buffer[3];  // small on purpose: several recv calls per message
    while (const size_t n = connection.recv(buffer, sizeof buffer, 1000)) {
      out.append(reinterpret_cast<const char*>(buffer), n);
    }
    return out;
  }

  Registry registry_;
  std::unique_ptr<Transport> transport_;
};

TEST_F(PluginsTransport, BytesFlowBothWaysUntilShutdown) {
  auto listener = transport_->listen("backup-server");
  auto client = transport_->connect("backup-server", 1000);
  auto server = listener->accept(1000);
  ASSERT_NE(server, nullptr);

  client->send("hello, server");
  client->shutdown();
  EXPECT_EQ(read_all(*server), "hello, server");

  server->send("hello, client");
  server->send("");
  server->shutdown();
  EXPECT_EQ(read_all(*client), "hello, client");
}

TEST_F(PluginsTransport, ClosedPeerReadsAsEndOfStream) {
  auto listener = transport_->listen("a");
  auto client = transport_->connect("a", 1000);
  auto server = listener->accept(1000);
  client->send("last words");
  client.reset();
  EXPECT_EQ(read_all(*server), "last words");
}

TEST_F(PluginsTransport, AcceptTimesOutWithNull) {
  auto listener = transport_->listen("quiet");
  EXPECT_EQ(listener->accept(0), nullptr);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(listener->accept(30), nullptr);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(25));
}

TEST_F(PluginsTransport, RecvTimeoutThrowsTimeout) {
  auto listener = transport_->listen("slow");
  auto client = transport_->connect("slow", 1000);
  uint8_t buffer[16];
  try {
    client->recv(buffer, sizeof buffer, 20);
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SBX_TIMEOUT);
    EXPECT_STREQ(e.what(), "test-pipe: recv on connection to 'slow': timed out after 20 ms");
  }
  EXPECT_THROW(client->recv(buffer, 0, 0), PluginError);
}

TEST_F(PluginsTransport, ConnectErrorCarriesThePluginsMessage) {
  try {
    transport_->connect("nowhere", 10);
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SBX_ERR_NOT_FOUND);
    EXPECT_STREQ(e.what(), "test-pipe: connect to 'nowhere': nobody listens on 'nowhere'");
  }
}

TEST_F(PluginsTransport, SendAfterShutdownFails) {
  auto listener = transport_->listen("s");
  auto client = transport_->connect("s", 1000);
  client->shutdown();
  try {
    client->send("too late");
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SBX_ERR_CLOSED);
    EXPECT_STREQ(e.what(), "test-pipe: send on connection to 's': send after shutdown");
  }
}

TEST_F(PluginsTransport, AddressInUse) {
  auto listener = transport_->listen("busy");
  EXPECT_THROW(transport_->listen("busy"), PluginError);
  listener.reset();
  EXPECT_NO_THROW(transport_->listen("busy"));
}

}  // namespace
}  // namespace sbx::plugins
