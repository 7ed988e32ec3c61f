// Shared by the plugin host's tests: where the test plugins are, a temp dir, and a log capture.
#pragma once

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace sbx::plugins::test_support {

// Built by sdk/testkit/broken; no strongbox scans this folder by itself.
inline std::filesystem::path test_plugin_dir() {
  return std::filesystem::path(SBX_BUILD_DIR) / "lib" / "strongbox" / "test-plugins";
}

inline std::filesystem::path test_plugin(const std::string& name) {
  const std::filesystem::path file = test_plugin_dir() / (name + ".so");
  if (!std::filesystem::exists(file))
    throw std::runtime_error("test plugin " + file.string() + " is not built");
  return file;
}

// True while the dynamic linker has the library mapped into this process.
inline bool library_mapped(const std::filesystem::path& file) {
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (!handle) return false;
  dlclose(handle);  // RTLD_NOLOAD took a reference too
  return true;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sbx-plugins-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Routes spdlog's default logger into memory while alive.
class LogCapture {
 public:
  LogCapture()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4096)),
        previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<std::string> lines(spdlog::level::level_enum level) const {
    std::vector<std::string> out;
    for (const auto& message : sink_->last_raw()) {
      if (message.level == level) out.emplace_back(message.payload.data(), message.payload.size());
    }
    return out;
  }
  std::vector<std::string> errors() const { return lines(spdlog::level::err); }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace sbx::plugins::test_support
