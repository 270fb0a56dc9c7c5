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
  auto executor = co_await boost::asio::this_coro::executor;
  Out out = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Out)>(
      [store, executor](auto handler, datastore::TxnRequest r) mutable {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        store->Txn(std::move(r), [shared, executor](Result<datastore::TxnResponse> res) {
          // Runs on the store's writer thread: hand the result back to the coroutine's executor.
          auto value = std::make_shared<Result<datastore::TxnResponse>>(std::move(res));
          boost::asio::post(executor, [shared, value]() mutable { (*shared)(value); });
        });
      },
      boost::asio::use_awaitable, std::move(req));
  co_return std::move(*out);
}

}  // namespace kite::apiserver
