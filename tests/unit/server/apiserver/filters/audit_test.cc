// The audit filter's events as text (each line parses back to upstream's Event, shared parts
// written once per request still right in every stage, odd bytes escaped), failed
// authentication audited as upstream's filter does it, and the log's blocking queue (no event
// dropped when writers outrun it, each writer's lines in order).
#include "server/apiserver/filters/audit.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

namespace kite::apiserver::audit {
namespace {
namespace json = boost::json;

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kite-audit-test-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Auditor> NewAuditor(std::string_view policy) {
    auto p = ParsePolicy(policy);
    EXPECT_TRUE(p.ok()) << p.status().message();
    auto log = AuditLog::Open(AuditLogOptions{(dir_ / "audit.log").string()});
    EXPECT_TRUE(log.ok());
    return std::make_unique<Auditor>(std::move(*p), std::move(*log));
  }
  std::vector<json::object> Events(const Auditor& a) {
    a.log().Flush();
    std::vector<json::object> out;
    std::ifstream in(dir_ / "audit.log");
    for (std::string line; std::getline(in, line);) {
      boost::system::error_code ec;
      json::value v = json::parse(line, ec);
      EXPECT_FALSE(ec) << line;
      if (!ec) out.push_back(v.as_object());
    }
    return out;
  }

  std::filesystem::path dir_;
};

constexpr std::string_view kMetadataAll = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n";

HttpsRequest Get(const std::string& target) {
  HttpsRequest r;
  r.method = "GET";
  r.target = target;
  r.path = target;
  r.remote = "10.0.0.7:5555";
  return r;
}

RequestAttributes PodsList(UserInfo user = {}) {
  RequestAttributes a;
  a.user = std::move(user);
  a.verb = "list";
  a.resource_request = true;
  a.api_version = "v1";
  a.resource = "pods";
  a.namespace_ = "default";
  return a;
}

TEST_F(AuditTest, MetadataEventsOfEveryStage) {
  auto auditor = NewAuditor(kMetadataAll);
  HttpsRequest req = Get("/api/v1/namespaces/default/pods?limit=5");
  req.headers["user-agent"] = "odd \"agent\"\n\x01\\ é";
  req.headers["x-forwarded-for"] = "192.0.2.1, 10.0.0.7";
  UserInfo jane{"jane", "uid-1", {"devs", "system:authenticated"}, {{"scopes", {"a", "b"}}}};
  auto ra = auditor->Begin(req, PodsList(jane));
  ASSERT_TRUE(ra);
  ra->Authorized(Decision{true, "RBAC: allowed by RoleBinding \"x\""});
  ra->Complete(200, "application/json", R"({"kind":"PodList","items":[]})");
  auto events = Events(*auditor);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("stage"), "RequestReceived");
  EXPECT_EQ(events[1].at("stage"), "ResponseComplete");
  for (const auto& e : events) {
    EXPECT_EQ(e.at("kind"), "Event");
    EXPECT_EQ(e.at("apiVersion"), "audit.k8s.io/v1");
    EXPECT_EQ(e.at("level"), "Metadata");
    EXPECT_EQ(std::string(e.at("auditID").as_string()), ra->id());
    EXPECT_EQ(e.at("verb"), "list");
    EXPECT_EQ(e.at("requestURI"), "/api/v1/namespaces/default/pods?limit=5");
    EXPECT_EQ(e.at("userAgent"), "odd \"agent\"\n\x01\\ é");
    EXPECT_EQ(json::serialize(e.at("user")),
              R"({"username":"jane","uid":"uid-1","groups":["devs","system:authenticated"],"extra":{"scopes":["a","b"]}})");
    EXPECT_EQ(json::serialize(e.at("sourceIPs")), R"(["192.0.2.1","10.0.0.7"])");
    EXPECT_EQ(json::serialize(e.at("objectRef")), R"({"resource":"pods","namespace":"default","apiVersion":"v1"})");
    EXPECT_EQ(e.at("requestReceivedTimestamp").as_string().size(), 27u);
    EXPECT_FALSE(e.contains("requestObject"));
    EXPECT_FALSE(e.contains("responseObject"));
  }
  EXPECT_FALSE(events[0].contains("responseStatus"));
  EXPECT_FALSE(events[0].contains("annotations"));
  EXPECT_EQ(json::serialize(events[1].at("responseStatus")), R"({"metadata":{},"code":200})");
  EXPECT_EQ(events[1].at("annotations").at("authorization.k8s.io/decision"), "allow");
  EXPECT_EQ(events[1].at("annotations").at("authorization.k8s.io/reason"), "RBAC: allowed by RoleBinding \"x\"");
}

TEST_F(AuditTest, RequestResponseCreateNamesTheObjectAndKeepsBothBodies) {
  auto auditor = NewAuditor("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n");
  HttpsRequest req = Get("/api/v1/namespaces/default/configmaps");
  req.method = "POST";
  req.headers["content-type"] = "application/json";
  req.body = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"c-"},"data":{"k":"v"}})";
  RequestAttributes a = PodsList(UserInfo{"admin", "", {"system:masters"}, {}});
  a.verb = "create";
  a.resource = "configmaps";
  auto ra = auditor->Begin(req, a);
  ASSERT_TRUE(ra);
  ra->Impersonated(UserInfo{"jane", "", {}, {}});
  ra->Complete(201, "application/json", R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c-x1"},"data":{"k":"v"}})");
  auto events = Events(*auditor);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].at("objectRef").as_object().contains("name"));
  EXPECT_EQ(events[1].at("objectRef").at("name"), "c-x1");  // from the answer
  EXPECT_EQ(events[1].at("requestObject").at("metadata").at("generateName"), "c-");
  EXPECT_EQ(events[1].at("responseObject").at("metadata").at("name"), "c-x1");
  EXPECT_EQ(json::serialize(events[1].at("impersonatedUser")), R"({"username":"jane"})");
}

TEST_F(AuditTest, ErrorStatusAtMetadataLevel) {
  auto auditor = NewAuditor(kMetadataAll);
  auto ra = auditor->Begin(Get("/api/v1/namespaces/default/pods/p"), PodsList(UserInfo{"jane", "", {}, {}}));
  ra->Complete(404, "application/json",
               R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"p\" not found","reason":"NotFound","details":{"name":"p"},"code":404})");
  auto events = Events(*auditor);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(json::serialize(events[1].at("responseStatus")),
            R"({"metadata":{},"code":404,"status":"Failure","message":"pods \"p\" not found","reason":"NotFound"})");
}

TEST_F(AuditTest, FailedAuthenticationAsUpstream) {
  auto auditor = NewAuditor(kMetadataAll);
  struct Case {
    const char* name;
    std::string authorization, query;
    bool cert;
    std::string message;
  };
  const Case cases[] = {
      {"no credentials", "", "", false, "Authentication failed, no credentials provided"},
      {"a bad token", "Bearer nope", "", false, "Authentication failed, attempted: bearer"},
      {"basic and a certificate", "Basic amFuZTpw", "", true, "Authentication failed, attempted: basic, x509"},
      {"access_token", "", "x", false, "Authentication failed, attempted: access_token"},
      {"an empty bearer", "Bearer ", "", false, "Authentication failed, no credentials provided"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::filesystem::remove(dir_ / "audit.log");
    auditor = NewAuditor(kMetadataAll);
    HttpsRequest req = Get("/api/v1/namespaces/default/pods");
    if (!c.authorization.empty()) req.headers["authorization"] = c.authorization;
    if (!c.query.empty()) req.query.emplace("access_token", c.query);
    if (c.cert) req.peer = PeerCertificate{"stranger", {}};
    const std::string id = auditor->FailedAuthentication(req, PodsList());
    ASSERT_FALSE(id.empty());
    auto events = Events(*auditor);
    ASSERT_EQ(events.size(), 1u);  // upstream writes ResponseStarted only
    const auto& e = events[0];
    EXPECT_EQ(e.at("stage"), "ResponseStarted");
    EXPECT_EQ(std::string(e.at("auditID").as_string()), id);
    EXPECT_EQ(json::serialize(e.at("user")), "{}");
    EXPECT_EQ(e.at("verb"), "list");
    EXPECT_EQ(e.at("objectRef").at("resource"), "pods");
    EXPECT_EQ(e.at("responseStatus").at("code"), 401);
    EXPECT_EQ(std::string(e.at("responseStatus").at("message").as_string()), c.message);
    EXPECT_FALSE(e.contains("annotations"));
  }
}

TEST_F(AuditTest, FailedAuthenticationFollowsThePolicy) {
  // A rule for a user cannot match a request without one; omitted ResponseStarted: nothing.
  auto auditor = NewAuditor("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  users: [jane]\n");
  EXPECT_EQ(auditor->FailedAuthentication(Get("/api"), PodsList()), "");
  auditor.reset();
  auditor = NewAuditor("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [ResponseStarted]\nrules:\n- level: Metadata\n");
  EXPECT_EQ(auditor->FailedAuthentication(Get("/api"), PodsList()), "");
  EXPECT_TRUE(Events(*auditor).empty());
}

TEST_F(AuditTest, LogBlocksInsteadOfDroppingAndKeepsEachWritersOrder) {
  auto log = AuditLog::Open(AuditLogOptions{(dir_ / "audit.log").string()});
  ASSERT_TRUE(log.ok());
  constexpr int kWriters = 4;
  constexpr int kLines = static_cast<int>(AuditLog::kMaxQueued);  // together 4x what the queue holds
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kLines; ++i) (*log)->Write(std::to_string(w) + " " + std::to_string(i));
    });
  }
  for (auto& t : writers) t.join();
  (*log)->Flush();
  std::vector<int> next(kWriters, 0);
  std::ifstream in(dir_ / "audit.log");
  int total = 0;
  for (std::string line; std::getline(in, line); ++total) {
    const int w = std::stoi(line.substr(0, line.find(' ')));
    const int i = std::stoi(line.substr(line.find(' ') + 1));
    ASSERT_EQ(i, next[w]) << "writer " << w;
    ++next[w];
  }
  EXPECT_EQ(total, kWriters * kLines);
}

}  // namespace
}  // namespace kite::apiserver::audit
