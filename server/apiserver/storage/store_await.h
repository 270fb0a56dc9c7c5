// Awaitable wrappers over the datastore's callback API, so API handlers (coroutines on the
// HTTPS io_context) never block a thread while a write waits for its fsync.
#pragma once

#include <boost/asio.hpp>

#include <memory>

#include "datastore/store.h"

namespace kite::apiserver {

inline boost::asio::awaitable<Result<datastore::TxnResponse>> AsyncTxn(datastore::Store* store,
                                                                       datastore::TxnRequest req) {
  using Out = std::shared_ptr<Result<datastore::TxnResponse>>;
  // The initiation is a named local holding only raw pointers: g++ 12 may destroy temporaries
  // of a co_await expression twice (fixed in GCC 13), so nothing reference-counted may live in
  // one. The handler's own executor (the connection's strand) is where the result goes back.
  datastore::TxnRequest* request = &req;
  auto initiation = [store, request](auto handler) {
    auto executor = boost::asio::get_associated_executor(handler);
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    store->Txn(std::move(*request), [shared, executor](Result<datastore::TxnResponse> res) {
      // Runs on the store's writer thread: hand the result back to the coroutine's executor.
      auto value = std::make_shared<Result<datastore::TxnResponse>>(std::move(res));
      // Invoke the handler as an rvalue, which moves the coroutine's state out of it.
      boost::asio::post(executor, [shared, value]() mutable { std::move(*shared)(value); });
    });
  };
  Out out = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Out)>(
      initiation, boost::asio::use_awaitable);
  co_return std::move(*out);
}

}  // namespace kite::apiserver
