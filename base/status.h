// Status and Result<T>: expected failures travel as values, never as exceptions. The one error
// type of kite, from the datastore up to the HTTP edge and into every client.
//
// A Status carries a canonical code (the gRPC code set, in which etcd errors are expressed) and
// a message; an error that came from or goes to the Kubernetes API also carries its HTTP code
// and metav1.Status reason (NotFound, AlreadyExists, Conflict, Invalid, …) and, when the API
// gives them, details (the object's name/group/kind, causes, retry-after). reason() and
// http_code() are derived from the canonical code when they were not given, so a datastore
// error answers "what is the Kubernetes reason?" too, and callers branch on IsNotFound(),
// IsAlreadyExists(), IsConflict() whatever layer the error came from. Messages of etcd errors
// must be byte-exact with etcd because clients match on the text. The Status is rendered as a
// metav1.Status body at exactly one place, the API server's edge.
#pragma once

#include <cassert>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kite {

enum class Code : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

class [[nodiscard]] Status {
 public:
  // metav1.StatusCause and the parts of metav1.StatusDetails kite fills in (upstream puts the
  // *resource* name in kind).
  struct Cause {
    std::string reason, message, field;
  };
  struct Details {
    std::string name, group, kind;
    std::vector<Cause> causes;
    int retry_after_seconds = 0;  // > 0: details.retryAfterSeconds and a Retry-After header
  };

  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }
  // An error as the Kubernetes API states it: HTTP code and reason exactly as given (an empty
  // reason stays empty); code() follows from them (404 → kNotFound, 409 AlreadyExists →
  // kAlreadyExists, other 409 → kAborted, 422 → kInvalidArgument, …).
  static Status Api(int http_code, std::string reason, std::string message);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // metav1.Status reason and HTTP code: as given to Api(), else derived from code().
  std::string_view reason() const;
  int http_code() const;
  const Details& details() const;
  Status& set_details(Details d);

  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsAlreadyExists() const { return code_ == Code::kAlreadyExists; }
  // An optimistic-concurrency conflict (409 Conflict; a stale resourceVersion).
  bool IsConflict() const { return code_ == Code::kAborted; }

  // The same error with "<what>: " before its message (code, reason and details kept), for a
  // caller that adds what it was doing without losing the reason its own caller branches on.
  Status Annotate(std::string_view what) const;
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  struct Api_;  // the HTTP code, reason and details of an API error (shared: a Status is copied)
  Code code_ = Code::kOk;
  std::string message_;
  std::shared_ptr<const Api_> api_;
};

// Result<T> holds a value or a non-OK Status: std::expected<T, Status>, marked [[nodiscard]],
// implicitly made from either (return a value, or return a Status), plus ok()/status().
template <typename T>
class [[nodiscard]] Result : public std::expected<T, Status> {
  using Base = std::expected<T, Status>;

 public:
  using Base::Base;
  Result(T value) : Base(std::in_place, std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : Base(std::unexpect, std::move(status)) {  // NOLINT: implicit by design
    assert(!this->error().ok() && "Result needs a value or an error");
  }

  bool ok() const { return this->has_value(); }
  // OK or the error: for passing the outcome on without the value.
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : this->error();
  }
  bool NotFound() const { return !ok() && this->error().IsNotFound(); }
  bool AlreadyExists() const { return !ok() && this->error().IsAlreadyExists(); }
  bool Conflict() const { return !ok() && this->error().IsConflict(); }
};

}  // namespace kite
