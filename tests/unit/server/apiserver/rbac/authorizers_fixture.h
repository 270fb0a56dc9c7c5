// The fixture of the RBAC and Node authorizer tests: a real store (objects written straight to
// the datastore, as the API server stores them, reach the authorizers' indexes) and a request's
// attributes.
#pragma once

#include <string>
#include <utility>

#include "server/apiserver/filters/authz.h"
#include "tests/unit/datastore/store_fixture.h"

namespace kite::apiserver::rbac::testing {

class AuthorizersTest : public datastore::testing::StoreTest {
 protected:
  static RequestAttributes Req(UserInfo user, std::string verb, std::string resource, std::string ns,
                               std::string name = "") {
    RequestAttributes a;
    a.user = std::move(user);
    a.verb = std::move(verb);
    a.resource_request = true;
    a.resource = std::move(resource);
    a.namespace_ = std::move(ns);
    a.name = std::move(name);
    return a;
  }
};

}  // namespace kite::apiserver::rbac::testing
