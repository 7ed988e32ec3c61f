// Shared set-up for the local transport's own tests: the plugin loaded through the fake host.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <strongbox/sdk/testkit/fake_host.hpp>
#include <strongbox/sdk/testkit/transport_handles.hpp>

namespace sbx::local_test {

using testkit::ConnectedPair;
using testkit::FakeHost;
using testkit::TransportConnection;
using testkit::TransportInstance;
using testkit::TransportListener;

class LocalTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FakeHost::clear_error();
    plugin_.emplace(testkit::load_plugin_file(SBX_TRANSPORT_LOCAL_SO));
    vt_ = plugin_->transport();
    ASSERT_EQ(TransportInstance::open(vt_, "{}", &transport_), SBX_OK) << FakeHost::last_error();
  }
  void TearDown() override {
    transport_.close();
    plugin_.reset();
  }

  // A transport with its own settings; fails the test when open refuses them.
  TransportInstance open(std::string_view config) {
    TransportInstance t;
    sbx_status s = TransportInstance::open(vt_, config, &t);
    EXPECT_EQ(s, SBX_OK) << config << ": " << FakeHost::last_error();
    return t;
  }

  // Names are process-wide; a per-test prefix keeps tests of one binary apart.
  static std::string name(std::string_view suffix) {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string(info->name()) + "-" + std::string(suffix) + "-" + std::to_string(counter++);
  }

  TransportListener listen(const TransportInstance& t, const std::string& address) {
    TransportListener l;
    sbx_status s = t.listen(address, &l);
    EXPECT_EQ(s, SBX_OK) << address << ": " << FakeHost::last_error();
    return l;
  }

  std::optional<testkit::LoadedPlugin> plugin_;
  const sbx_transport_vtable* vt_ = nullptr;
  TransportInstance transport_;
};

}  // namespace sbx::local_test
