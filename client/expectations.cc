#include "client/expectations.h"

namespace kite::client {

namespace {
constexpr auto kExpectationsTimeout = std::chrono::minutes(5);  // upstream's ExpectationsTimeout
}  // namespace

bool Expectations::Satisfied(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return true;
  return (it->second.adds <= 0 && it->second.dels <= 0) ||
         clock_->SteadyNow() - it->second.at > kExpectationsTimeout;
}

void Expectations::Expect(const std::string& key, int adds, int dels) {
  std::lock_guard<std::mutex> lock(mu_);
  items_[key] = Entry{adds, dels, clock_->SteadyNow()};
}

void Expectations::CreationObserved(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = items_.find(key); it != items_.end()) --it->second.adds;
}

void Expectations::DeletionObserved(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = items_.find(key); it != items_.end()) --it->second.dels;
}

void Expectations::Delete(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  items_.erase(key);
}

}  // namespace kite::client
