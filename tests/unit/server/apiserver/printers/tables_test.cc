#include "server/apiserver/printers/tables.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <limits>

#include "api/resources.h"
#include "server/apiserver/printers/tables_kinds.h"

namespace kite::apiserver {
namespace {

namespace json = boost::json;
using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

// 2024-05-01T12:00:00Z
const Clock::time_point kNow = Clock::time_point(std::chrono::seconds(1714564800));

const api::ResourceInfo& Res(std::string_view group, std::string_view resource) {
  const api::ResourceInfo* r = nullptr;
  for (const auto& info : api::BuiltinResources()) {
    if (info.group == group && info.resource == resource) r = &info;
  }
  EXPECT_NE(r, nullptr) << group << "/" << resource;
  return *r;
}

json::object Parse(std::string_view text) { return json::parse(text).as_object(); }

json::object Table(std::string_view group, std::string_view resource, std::string_view obj,
                   IncludeObject include = IncludeObject::kMetadata) {
  return ToTable(Res(group, resource), Parse(obj), include, "meta.k8s.io/v1", kNow);
}

std::vector<std::string> ColumnNames(const json::object& table) {
  std::vector<std::string> out;
  for (const auto& c : table.at("columnDefinitions").as_array()) out.emplace_back(c.at("name").as_string());
  return out;
}

const json::array& Cells(const json::object& table, size_t row = 0) {
  return table.at("rows").as_array().at(row).at("cells").as_array();
}

// Cell `col` (by column name) of the first row.
const json::value& Cell(const json::object& table, std::string_view col, size_t row = 0) {
  auto names = ColumnNames(table);
  auto it = std::find(names.begin(), names.end(), col);
  EXPECT_NE(it, names.end()) << col;
  return Cells(table, row).at(static_cast<size_t>(it - names.begin()));
}

std::string Ts(Clock::duration ago) {
  auto t = Clock::to_time_t(kNow - ago);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

TEST(TablesHumanAge, UpstreamRules) {
  struct Case {
    Clock::duration ago;
    std::string want;
  } cases[] = {
      {0s, "0s"},           {-1s, "0s"},          {-2s, "<invalid>"},     {1s, "1s"},
      {59s, "59s"},         {119s, "119s"},       {120s, "2m"},           {200s, "3m20s"},
      {599s, "9m59s"},      {600s, "10m"},        {179min, "179m"},       {180min, "3h"},
      {7h + 59min, "7h59m"}, {8h, "8h"},          {47h, "47h"},           {48h, "2d"},
      {51h, "2d3h"},        {191h, "7d23h"},      {192h, "8d"},           {729 * 24h, "729d"},
      {730 * 24h, "2y"},    {731 * 24h, "2y1d"},  {8 * 365 * 24h, "8y"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(HumanAge(Ts(c.ago), kNow), c.want) << Ts(c.ago);
  }
  EXPECT_EQ(HumanAge("2024-05-01T11:59:58.5Z", kNow), "1s");  // fractions truncate
  EXPECT_EQ(HumanAge("2024-05-01T13:59:30+02:00", kNow), "30s");
  EXPECT_EQ(HumanAge("", kNow), "<unknown>");
  EXPECT_EQ(HumanAge("0001-01-01T00:00:00Z", kNow), "<unknown>");
  EXPECT_EQ(HumanAge("yesterday", kNow), "<unknown>");
}

// Between is exact in 64-bit arithmetic (no __int128 on 32-bit ARM) and saturates at the int64
// nanosecond range, also where sec * 10^9 alone would overflow but the nanoseconds bring the sum
// back in range.
TEST(TablesTime, BetweenIsExactAndSaturates) {
  using tables::Between;
  using tables::Instant;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(Between({10, 500}, {12, 100}).count(), 1999999600);
  EXPECT_EQ(Between({12, 100}, {10, 500}).count(), -1999999600);
  EXPECT_EQ(Between({0, 999999999}, {1, 0}).count(), 1);
  EXPECT_EQ(Between({1, 0}, {0, 999999999}).count(), -1);
  // 9223372036.854775807 s is the largest representable span.
  EXPECT_EQ(Between({0, 0}, {9223372036, 854775807}).count(), kMax);
  EXPECT_EQ(Between({0, 0}, {9223372036, 854775808}).count(), kMax);  // saturated
  EXPECT_EQ(Between({0, 1}, {9223372037, 0}).count(), kMax);  // 9223372036.999999999 s
  EXPECT_EQ(Between({0, 999999999}, {9223372037, 0}).count(), 9223372036000000001);  // 9223372037e9 overflows
  EXPECT_EQ(Between({9223372037, 0}, {0, 999999999}).count(), -9223372036000000001);
  EXPECT_EQ(Between({9223372036, 854775808}, {0, 0}).count(), kMin);
  EXPECT_EQ(Between({9223372036, 854775809}, {0, 0}).count(), kMin);  // saturated
  EXPECT_EQ(Between({kMin, 0}, {kMax, 0}).count(), kMax);               // seconds overflow
  EXPECT_EQ(Between({kMax, 0}, {kMin, 0}).count(), kMin);
  EXPECT_EQ(Between({-62135596800, 0}, {1714564800, 0}).count(), kMax);  // Go's zero time to 2024
}

TEST(TablesAccept, WantedTableVersion) {
  EXPECT_EQ(WantedTableVersion("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
                               "g=meta.k8s.io,application/json"),
            "meta.k8s.io/v1");
  EXPECT_EQ(WantedTableVersion("application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"),
            "meta.k8s.io/v1beta1");
  EXPECT_EQ(WantedTableVersion("application/json"), "");
  EXPECT_EQ(WantedTableVersion(""), "");
  EXPECT_EQ(WantedTableVersion("application/vnd.kubernetes.protobuf,application/json"), "");
  EXPECT_EQ(WantedTableVersion("application/json, application/json;as=Table;v=v1;g=meta.k8s.io"), "");
  // Unservable Table ranges are skipped; q-values reorder.
  EXPECT_EQ(WantedTableVersion("application/json;as=Table;v=v1alpha1;g=meta.k8s.io,application/json"), "");
  EXPECT_EQ(WantedTableVersion("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,"
                               "application/json;as=Table;v=v1;g=meta.k8s.io"),
            "meta.k8s.io/v1");
  EXPECT_EQ(WantedTableVersion("application/json;q=0.5, application/json; as=Table; v=v1; g=meta.k8s.io"),
            "meta.k8s.io/v1");
  EXPECT_EQ(WantedTableVersion("text/html,application/json;as=Table;v=v1;g=meta.k8s.io"), "meta.k8s.io/v1");
  EXPECT_EQ(WantedTableVersion("application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"), "");
}

TEST(TablesInclude, Parse) {
  EXPECT_EQ(ParseIncludeObject(""), IncludeObject::kMetadata);
  EXPECT_EQ(ParseIncludeObject("Metadata"), IncludeObject::kMetadata);
  EXPECT_EQ(ParseIncludeObject("None"), IncludeObject::kNone);
  EXPECT_EQ(ParseIncludeObject("Object"), IncludeObject::kObject);
  EXPECT_TRUE(IsValidIncludeObject(""));
  EXPECT_FALSE(IsValidIncludeObject("object"));
}

TEST(TablesColumns, PodsDeploymentsDefault) {
  json::object pods = Table("", "pods", R"({"metadata":{"name":"p"}})");
  EXPECT_EQ(ColumnNames(pods), (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                                                         "Nominated Node", "Readiness Gates"}));
  const json::array& defs = pods.at("columnDefinitions").as_array();
  EXPECT_EQ(defs[0].at("format"), "name");
  EXPECT_EQ(defs[0].at("type"), "string");
  EXPECT_EQ(defs[3].at("type"), "string");  // Restarts: "3 (5m ago)"
  EXPECT_EQ(defs[4].at("priority"), 0);
  EXPECT_EQ(defs[5].at("priority"), 1);
  EXPECT_EQ(defs[8].at("priority"), 1);
  for (const auto& d : defs) {
    for (const char* k : {"name", "type", "format", "description", "priority"}) EXPECT_TRUE(d.as_object().contains(k));
    EXPECT_FALSE(d.at("description").as_string().empty());
  }

  json::object deploy = Table("apps", "deployments", R"({"metadata":{"name":"d"}})");
  EXPECT_EQ(ColumnNames(deploy), (std::vector<std::string>{"Name", "Ready", "Up-to-date", "Available", "Age",
                                                           "Containers", "Images", "Selector"}));
  EXPECT_EQ(deploy.at("columnDefinitions").as_array()[5].at("priority"), 1);

  json::object roles = Table("rbac.authorization.k8s.io", "roles",
                             R"({"metadata":{"name":"r","creationTimestamp":"2024-04-30T10:00:00Z"}})");
  EXPECT_EQ(ColumnNames(roles), (std::vector<std::string>{"Name", "Created At"}));
  EXPECT_EQ(roles.at("columnDefinitions").as_array()[1].at("type"), "date");
  EXPECT_EQ(Cells(roles), (json::array{"r", "2024-04-30T10:00:00Z"}));
  json::object crd = Table("apiextensions.k8s.io", "customresourcedefinitions",
                           R"({"metadata":{"name":"x","creationTimestamp":"2024-04-30T12:00:00+02:00"}})");
  EXPECT_EQ(Cells(crd), (json::array{"x", "2024-04-30T10:00:00Z"}));
}

std::string PodStatus(std::string_view pod) { return std::string(Cell(Table("", "pods", pod), "Status").as_string()); }

TEST(TablesPods, StatusReasons) {
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]},
      "status":{"phase":"Running","containerStatuses":[{"name":"c","ready":true,"restartCount":0,
      "state":{"running":{"startedAt":"2024-05-01T11:00:00Z"}}}]}})"),
            "Running");
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]},
      "status":{"phase":"Pending","containerStatuses":[{"name":"c","ready":false,"restartCount":0,
      "state":{"waiting":{"reason":"ContainerCreating"}}}]}})"),
            "ContainerCreating");
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Pending"}})"),
            "Pending");
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]}})"), "Pending");
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]},
      "status":{"phase":"Running","containerStatuses":[{"name":"c","ready":false,"restartCount":4,
      "state":{"waiting":{"reason":"CrashLoopBackOff"}},
      "lastState":{"terminated":{"exitCode":1,"reason":"Error","finishedAt":"2024-05-01T11:58:00Z"}}}]}})"),
            "CrashLoopBackOff");
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]},
      "status":{"phase":"Succeeded","containerStatuses":[{"name":"c","ready":false,"restartCount":0,
      "state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})"),
            "Completed");
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]},
      "status":{"phase":"Failed","containerStatuses":[{"name":"c","state":{"terminated":{"exitCode":137}}}]}})"),
            "ExitCode:137");
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p"},"spec":{"initContainers":[{"name":"i"}],"containers":[{"name":"c"}]},
      "status":{"phase":"Pending","initContainerStatuses":[{"name":"i","ready":false,"restartCount":0,
      "state":{"running":{}}}],"containerStatuses":[{"name":"c","state":{"waiting":{"reason":"PodInitializing"}}}]}})"),
            "Init:0/1");
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p"},"spec":{"initContainers":[{"name":"i"},{"name":"j"}],
      "containers":[{"name":"c"}]},"status":{"phase":"Pending","initContainerStatuses":[
      {"name":"i","state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
      {"name":"j","state":{"terminated":{"exitCode":2,"reason":"Error"}}}]}})"),
            "Init:Error");
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p"},"spec":{"initContainers":[{"name":"i"}],"containers":[{"name":"c"}]},
      "status":{"phase":"Pending","initContainerStatuses":[{"name":"i","state":{"waiting":{"reason":"ImagePullBackOff"}}}]}})"),
            "Init:ImagePullBackOff");
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p"},"spec":{"initContainers":[{"name":"i"}],"containers":[{"name":"c"}]},
      "status":{"phase":"Pending","initContainerStatuses":[{"name":"i","state":{"terminated":{"exitCode":0}}}],
      "containerStatuses":[{"name":"c","state":{"waiting":{"reason":"PodInitializing"}}}]}})"),
            "PodInitializing");
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p","deletionTimestamp":"2024-05-01T11:59:00Z"},
      "spec":{"containers":[{"name":"c"}]},"status":{"phase":"Running","containerStatuses":[{"name":"c",
      "ready":true,"state":{"running":{}}}]}})"),
            "Terminating");
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p","deletionTimestamp":"2024-05-01T11:59:00Z"},
      "spec":{"containers":[{"name":"c"}]},"status":{"phase":"Running","reason":"NodeLost"}})"),
            "Unknown");
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Pending",
      "conditions":[{"type":"PodScheduled","status":"False","reason":"SchedulingGated"}]}})"),
            "SchedulingGated");
  // One container completed, one still runs: Running when the pod is Ready, else NotReady.
  EXPECT_EQ(PodStatus(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"a"},{"name":"b"}]},
      "status":{"phase":"Running","conditions":[{"type":"Ready","status":"False"}],"containerStatuses":[
      {"name":"a","ready":false,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
      {"name":"b","ready":true,"state":{"running":{}}}]}})"),
            "NotReady");
}

TEST(TablesPods, ReadyRestartsAndWideCells) {
  json::object t = Table("", "pods", R"({"metadata":{"name":"web","namespace":"default",
      "creationTimestamp":"2024-05-01T11:55:00Z"},
      "spec":{"nodeName":"node-1","containers":[{"name":"a"},{"name":"b"}],
              "readinessGates":[{"conditionType":"example.com/lb"}]},
      "status":{"phase":"Running","podIP":"10.1.0.5","podIPs":[{"ip":"10.1.0.5"}],
        "conditions":[{"type":"Ready","status":"True"},{"type":"example.com/lb","status":"True"}],
        "containerStatuses":[
          {"name":"a","ready":true,"restartCount":2,"state":{"running":{}},
           "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-05-01T11:57:00Z"}}},
          {"name":"b","ready":false,"restartCount":1,"state":{"running":{}},
           "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-05-01T11:50:00Z"}}}]}})");
  EXPECT_EQ(Cells(t), (json::array{"web", "1/2", "Running", "3 (3m ago)", "5m", "10.1.0.5", "node-1", "<none>", "1/1"}));
  EXPECT_FALSE(t.at("rows").as_array()[0].as_object().contains("conditions"));

  json::object plain = Table("", "pods", R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]},
      "status":{"phase":"Pending"}})");
  EXPECT_EQ(Cells(plain), (json::array{"p", "0/1", "Pending", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>"}));

  // Restarts without a known finish time have no "(... ago)"; sidecars count as containers.
  json::object sidecar = Table("", "pods", R"({"metadata":{"name":"p"},"spec":{
      "initContainers":[{"name":"proxy","restartPolicy":"Always"}],"containers":[{"name":"c"}]},
      "status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True"}],
      "initContainerStatuses":[{"name":"proxy","started":true,"ready":true,"restartCount":1,"state":{"running":{}}}],
      "containerStatuses":[{"name":"c","ready":true,"restartCount":0,"state":{"running":{}}}]}})");
  EXPECT_EQ(Cell(sidecar, "Ready"), "2/2");
  EXPECT_EQ(Cell(sidecar, "Restarts"), "1");
  EXPECT_EQ(Cell(sidecar, "Status"), "Running");

  json::object done = Table("", "pods", R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]},
      "status":{"phase":"Succeeded","containerStatuses":[{"name":"c","state":{"terminated":{"exitCode":0,
      "reason":"Completed"}}}]}})");
  const json::array& conds = done.at("rows").as_array()[0].at("conditions").as_array();
  ASSERT_EQ(conds.size(), 1u);
  EXPECT_EQ(conds[0].at("type"), "Completed");
  EXPECT_EQ(conds[0].at("status"), "True");
  EXPECT_EQ(conds[0].at("reason"), "Succeeded");
}

TEST(TablesWorkloads, DeploymentReplicaSetJobCronJob) {
  json::object d = Table("apps", "deployments", R"({"metadata":{"name":"web","creationTimestamp":"2024-05-01T10:00:00Z"},
      "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
              "template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"},{"name":"log","image":"busybox"}]}}},
      "status":{"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})");
  EXPECT_EQ(Cells(d), (json::array{"web", "2/3", 3, 2, "120m", "nginx,log", "nginx:1.27,busybox", "app=web"}));
  json::object fresh = Table("apps", "deployments", R"({"metadata":{"name":"new"},"spec":{}})");
  EXPECT_EQ(Cell(fresh, "Ready"), "0/1");  // replicas defaults to 1

  json::object rs = Table("apps", "replicasets", R"({"metadata":{"name":"web-1"},"spec":{"replicas":2,
      "selector":{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["b","a"]}]}},
      "status":{"replicas":2,"readyReplicas":1}})");
  EXPECT_EQ(Cell(rs, "Desired"), 2);
  EXPECT_EQ(Cell(rs, "Current"), 2);
  EXPECT_EQ(Cell(rs, "Ready"), 1);
  EXPECT_EQ(Cell(rs, "Selector"), "app=web,tier in (a,b)");

  json::object job = Table("batch", "jobs", R"({"metadata":{"name":"pi"},"spec":{"completions":1,"parallelism":1,
      "template":{"spec":{"containers":[{"name":"pi","image":"perl"}]}}},
      "status":{"succeeded":1,"startTime":"2024-05-01T11:00:00Z","completionTime":"2024-05-01T11:00:42Z",
      "conditions":[{"type":"SuccessCriteriaMet","status":"True"},{"type":"Complete","status":"True"}]}})");
  EXPECT_EQ(ColumnNames(job), (std::vector<std::string>{"Name", "Status", "Completions", "Duration", "Age",
                                                        "Containers", "Images", "Selector"}));
  EXPECT_EQ(Cell(job, "Status"), "Complete");
  EXPECT_EQ(Cell(job, "Completions"), "1/1");
  EXPECT_EQ(Cell(job, "Duration"), "42s");
  json::object running = Table("batch", "jobs", R"({"metadata":{"name":"w"},"spec":{"parallelism":3},
      "status":{"startTime":"2024-05-01T11:50:00Z"}})");
  EXPECT_EQ(Cell(running, "Status"), "Running");
  EXPECT_EQ(Cell(running, "Completions"), "0/1 of 3");
  EXPECT_EQ(Cell(running, "Duration"), "10m");

  json::object cj = Table("batch", "cronjobs", R"({"metadata":{"name":"c"},"spec":{"schedule":"*/5 * * * *",
      "jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"x","image":"busybox"}]}}}}},
      "status":{"active":[{"name":"c-1"}],"lastScheduleTime":"2024-05-01T11:58:00Z"}})");
  EXPECT_EQ(Cells(cj), (json::array{"c", "*/5 * * * *", "<none>", "False", 1, "2m", "<unknown>", "x", "busybox",
                                    "<none>"}));

  json::object sts = Table("apps", "statefulsets", R"({"metadata":{"name":"db"},"spec":{"replicas":3},
      "status":{"readyReplicas":3}})");
  EXPECT_EQ(Cell(sts, "Ready"), "3/3");
  json::object ds = Table("apps", "daemonsets", R"({"metadata":{"name":"agent"},"spec":{"template":{"spec":{
      "nodeSelector":{"kubernetes.io/os":"linux"}}}},"status":{"desiredNumberScheduled":2,"numberReady":1}})");
  EXPECT_EQ(Cell(ds, "Desired"), 2);
  EXPECT_EQ(Cell(ds, "Ready"), 1);
  EXPECT_EQ(Cell(ds, "Node Selector"), "kubernetes.io/os=linux");
  json::object cr = Table("apps", "controllerrevisions", R"({"metadata":{"name":"db-1","ownerReferences":[
      {"apiVersion":"apps/v1","kind":"StatefulSet","name":"db","controller":true}]},"revision":4})");
  EXPECT_EQ(Cell(cr, "Controller"), "statefulset.apps/db");
  EXPECT_EQ(Cell(cr, "Revision"), 4);
}

TEST(TablesServices, PortsTypesAndExternalIPs) {
  json::object svc = Table("", "services", R"({"metadata":{"name":"web"},"spec":{"type":"NodePort",
      "clusterIP":"10.43.0.10","clusterIPs":["10.43.0.10"],"selector":{"app":"web"},
      "ports":[{"port":80,"protocol":"TCP"},{"port":443,"nodePort":30443,"protocol":"TCP"}]}})");
  EXPECT_EQ(Cells(svc), (json::array{"web", "NodePort", "10.43.0.10", "<none>", "80/TCP,443:30443/TCP", "<unknown>",
                                     "app=web"}));
  json::object lb = Table("", "services", R"({"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer",
      "clusterIP":"10.43.0.11","ports":[{"port":53,"protocol":"UDP"}]},"status":{"loadBalancer":{}}})");
  EXPECT_EQ(Cell(lb, "External-IP"), "<pending>");
  EXPECT_EQ(Cell(lb, "Port(s)"), "53/UDP");
  json::object lb2 = Table("", "services", R"({"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer",
      "externalIPs":["1.2.3.4"]},"status":{"loadBalancer":{"ingress":[{"ip":"5.6.7.8"},{"hostname":"a.example"}]}}})");
  EXPECT_EQ(Cell(lb2, "External-IP"), "5.6.7.8,a.example,1.2.3.4");
  json::object ext = Table("", "services", R"({"metadata":{"name":"e"},"spec":{"type":"ExternalName",
      "externalName":"db.example.com"}})");
  EXPECT_EQ(Cell(ext, "External-IP"), "db.example.com");
  EXPECT_EQ(Cell(ext, "Cluster-IP"), "<none>");
  EXPECT_EQ(Cell(ext, "Port(s)"), "<none>");
  EXPECT_EQ(Cell(ext, "Selector"), "<none>");

  json::object ep = Table("", "endpoints", R"({"metadata":{"name":"web"},"subsets":[{"addresses":[
      {"ip":"10.1.0.1"},{"ip":"10.1.0.2"},{"ip":"fd00::3"}],"ports":[{"port":80},{"port":443}]}]})");
  EXPECT_EQ(Cell(ep, "Endpoints"), "10.1.0.1:80,10.1.0.2:80,[fd00::3]:80 + 3 more...");
  EXPECT_EQ(Cell(Table("", "endpoints", R"({"metadata":{"name":"x"}})"), "Endpoints"), "<none>");
}

TEST(TablesCore, NodesNamespacesConfigSecretsEvents) {
  json::object node = Table("", "nodes", R"({"metadata":{"name":"n1","labels":{
      "node-role.kubernetes.io/control-plane":"","node-role.kubernetes.io/master":"","kubernetes.io/role":"edge"}},
      "spec":{"unschedulable":true},
      "status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],
      "addresses":[{"type":"InternalIP","address":"192.168.1.10"},{"type":"Hostname","address":"n1"}],
      "nodeInfo":{"kubeletVersion":"v1.32.4","osImage":"Debian","containerRuntimeVersion":"containerd://1.7"}}})");
  EXPECT_EQ(Cells(node), (json::array{"n1", "Ready,SchedulingDisabled", "control-plane,edge,master", "<unknown>",
                                      "v1.32.4", "192.168.1.10", "<none>", "Debian", "<unknown>", "containerd://1.7"}));
  EXPECT_EQ(Cell(Table("", "nodes", R"({"metadata":{"name":"n"}})"), "Status"), "Unknown");

  EXPECT_EQ(Cells(Table("", "namespaces", R"({"metadata":{"name":"default","creationTimestamp":"2024-04-29T12:00:00Z"},
      "status":{"phase":"Active"}})")),
            (json::array{"default", "Active", "2d"}));
  EXPECT_EQ(Cells(Table("", "configmaps", R"({"metadata":{"name":"c"},"data":{"a":"1","b":"2"},"binaryData":{"c":"AA=="}})")),
            (json::array{"c", 3, "<unknown>"}));
  EXPECT_EQ(Cells(Table("", "secrets", R"({"metadata":{"name":"s"},"type":"kubernetes.io/tls",
      "data":{"tls.crt":"","tls.key":""}})")),
            (json::array{"s", "kubernetes.io/tls", 2, "<unknown>"}));
  EXPECT_EQ(Cell(Table("", "secrets", R"({"metadata":{"name":"s"},"stringData":{"a":"x"}})"), "Type"), "Opaque");
  EXPECT_EQ(Cell(Table("", "serviceaccounts", R"({"metadata":{"name":"default"}})"), "Secrets"), 0);

  json::object ev = Table("", "events", R"({"metadata":{"name":"web.17c"},"type":"Warning","reason":"BackOff",
      "message":"Back-off restarting failed container\n","involvedObject":{"kind":"Pod","name":"web",
      "fieldPath":"spec.containers{c}"},"source":{"component":"kubelet","host":"node-1"},
      "firstTimestamp":"2024-05-01T11:00:00Z","lastTimestamp":"2024-05-01T11:59:00Z","count":7})");
  EXPECT_EQ(ColumnNames(ev), (std::vector<std::string>{"Last Seen", "Type", "Reason", "Object", "Subobject", "Source",
                                                       "Message", "First Seen", "Count", "Name"}));
  EXPECT_EQ(Cells(ev), (json::array{"60s", "Warning", "BackOff", "pod/web", "spec.containers{c}", "kubelet, node-1",
                                    "Back-off restarting failed container", "60m", 7, "web.17c"}));
  json::object ev2 = Table("events.k8s.io", "events", R"({"metadata":{"name":"e"},"type":"Normal","reason":"Scheduled",
      "note":"assigned","regarding":{"kind":"Pod","name":"web"},"reportingController":"default-scheduler",
      "eventTime":"2024-05-01T11:59:50.123456Z"})");
  EXPECT_EQ(Cells(ev2), (json::array{"9s", "Normal", "Scheduled", "pod/web", "", "default-scheduler", "assigned", "9s",
                                     1, "e"}));
}

TEST(TablesOther, StorageRbacPolicyHpa) {
  json::object rb = Table("rbac.authorization.k8s.io", "rolebindings", R"({"metadata":{"name":"rb"},
      "roleRef":{"kind":"ClusterRole","name":"view"},"subjects":[{"kind":"User","name":"alice"},
      {"kind":"Group","name":"devs"},{"kind":"ServiceAccount","name":"sa","namespace":"ns"},{"kind":"User","name":"bob"}]})");
  EXPECT_EQ(Cells(rb), (json::array{"rb", "ClusterRole/view", "<unknown>", "alice, bob", "devs", "ns/sa"}));

  json::object pv = Table("", "persistentvolumes", R"({"metadata":{"name":"pv1"},"spec":{"capacity":{"storage":"1024Mi"},
      "accessModes":["ReadWriteMany","ReadWriteOnce"],"persistentVolumeReclaimPolicy":"Retain",
      "claimRef":{"namespace":"ns","name":"data"},"storageClassName":"local"},"status":{"phase":"Bound"}})");
  EXPECT_EQ(Cells(pv), (json::array{"pv1", "1Gi", "RWO,RWX", "Retain", "Bound", "ns/data", "local", "<unset>", "",
                                    "<unknown>", "Filesystem"}));
  json::object bare_pv = Table("", "persistentvolumes", R"({"metadata":{"name":"pv2"},"spec":{"capacity":{"storage":"5Gi"},
      "persistentVolumeReclaimPolicy":"Delete","volumeMode":"Block"}})");
  EXPECT_EQ(Cells(bare_pv), (json::array{"pv2", "5Gi", "", "Delete", "Pending", "", "", "<unset>", "", "<unknown>",
                                         "Block"}));
  json::object pvc = Table("", "persistentvolumeclaims", R"({"metadata":{"name":"data"},"spec":{"volumeName":"pv1",
      "storageClassName":"local","volumeMode":"Filesystem"},"status":{"phase":"Bound","accessModes":["ReadWriteOnce"],
      "capacity":{"storage":"1Gi"}}})");
  EXPECT_EQ(Cells(pvc), (json::array{"data", "Bound", "pv1", "1Gi", "RWO", "local", "<unset>", "<unknown>",
                                     "Filesystem"}));
  json::object rq = Table("", "resourcequotas", R"({"metadata":{"name":"q"},"status":{
      "hard":{"pods":"10","limits.cpu":"2","requests.memory":"1Gi"},"used":{"pods":"3","limits.cpu":"500m"}}})");
  EXPECT_EQ(Cell(rq, "Request"), "pods: 3/10, requests.memory: 0/1Gi");
  EXPECT_EQ(Cell(rq, "Limit"), "limits.cpu: 500m/2");
  json::object pdb = Table("policy", "poddisruptionbudgets", R"({"metadata":{"name":"p"},"spec":{"minAvailable":"50%"},
      "status":{"disruptionsAllowed":1}})");
  EXPECT_EQ(Cells(pdb), (json::array{"p", "50%", "N/A", 1, "<unknown>"}));
  json::object sc = Table("storage.k8s.io", "storageclasses", R"({"metadata":{"name":"local-path","annotations":{
      "storageclass.kubernetes.io/is-default-class":"true"}},"provisioner":"rancher.io/local-path",
      "volumeBindingMode":"WaitForFirstConsumer"})");
  EXPECT_EQ(Cells(sc), (json::array{"local-path (default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer",
                                    false, "<unknown>"}));
  json::object hpa = Table("autoscaling", "horizontalpodautoscalers", R"({"metadata":{"name":"h"},"spec":{
      "scaleTargetRef":{"kind":"Deployment","name":"web"},"minReplicas":2,"maxReplicas":5,"metrics":[
      {"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":60}}},
      {"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"500Mi"}}}]},
      "status":{"currentReplicas":2,"currentMetrics":[{"type":"Resource","resource":{"name":"cpu",
      "current":{"averageUtilization":12}}}]}})");
  EXPECT_EQ(Cells(hpa), (json::array{"h", "Deployment/web", "cpu: 12%/60%, memory: <unknown>/500Mi", "2", 5, 2,
                                     "<unknown>"}));
  json::object ing = Table("networking.k8s.io", "ingresses", R"({"metadata":{"name":"i"},"spec":{
      "ingressClassName":"traefik","rules":[{"host":"a.example"},{},{"host":"b.example"}],"tls":[{}]},
      "status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.1"}]}}})");
  EXPECT_EQ(Cells(ing), (json::array{"i", "traefik", "a.example,b.example", "10.0.0.1", "80, 443", "<unknown>"}));
  EXPECT_EQ(Cell(Table("networking.k8s.io", "networkpolicies", R"({"metadata":{"name":"deny"},"spec":{}})"),
                 "Pod-Selector"),
            "<none>");
  json::object slice = Table("discovery.k8s.io", "endpointslices", R"({"metadata":{"name":"s"},"addressType":"IPv4",
      "ports":[{"port":80},{"name":"x"}],"endpoints":[{"addresses":["10.1.0.1"]},{"addresses":["10.1.0.2"]}]})");
  EXPECT_EQ(Cells(slice), (json::array{"s", "IPv4", "80,x", "10.1.0.1,10.1.0.2", "<unknown>"}));
}

TEST(TablesList, MetadataRowsAndIncludeObject) {
  const char* list = R"({"kind":"ConfigMapList","apiVersion":"v1",
      "metadata":{"resourceVersion":"108","continue":"eyJydiI6MTA4fQ","remainingItemCount":3},
      "items":[{"metadata":{"name":"a","namespace":"ns","resourceVersion":"101","labels":{"x":"1"}},"data":{"k":"v"}},
               {"metadata":{"name":"b","namespace":"ns","resourceVersion":"102"}}]})";
  json::object t = Table("", "configmaps", list);
  EXPECT_EQ(t.at("kind"), "Table");
  EXPECT_EQ(t.at("apiVersion"), "meta.k8s.io/v1");
  EXPECT_EQ(t.at("metadata"), (json::object{{"resourceVersion", "108"}, {"continue", "eyJydiI6MTA4fQ"},
                                            {"remainingItemCount", 3}}));
  const json::array& rows = t.at("rows").as_array();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(Cells(t, 1), (json::array{"b", 0, "<unknown>"}));
  EXPECT_EQ(rows[0].at("object"),
            (json::object{{"kind", "PartialObjectMetadata"},
                          {"apiVersion", "meta.k8s.io/v1"},
                          {"metadata", {{"name", "a"}, {"namespace", "ns"}, {"resourceVersion", "101"},
                                        {"labels", {{"x", "1"}}}}}}));

  json::object none = Table("", "configmaps", list, IncludeObject::kNone);
  EXPECT_FALSE(none.at("rows").as_array()[0].as_object().contains("object"));
  EXPECT_EQ(Cells(none), (json::array{"a", 1, "<unknown>"}));

  json::object full = Table("", "configmaps", list, IncludeObject::kObject);
  const json::object& obj = full.at("rows").as_array()[0].at("object").as_object();
  EXPECT_EQ(obj.at("kind"), "ConfigMap");  // list items lack kind/apiVersion; filled in
  EXPECT_EQ(obj.at("apiVersion"), "v1");
  EXPECT_EQ(obj.at("data"), (json::object{{"k", "v"}}));

  // A v1beta1 Table stamps the partial objects with its own version, as upstream does.
  json::object beta = ToTable(Res("", "configmaps"), Parse(list), IncludeObject::kMetadata, "meta.k8s.io/v1beta1", kNow);
  EXPECT_EQ(beta.at("apiVersion"), "meta.k8s.io/v1beta1");
  EXPECT_EQ(beta.at("rows").as_array()[0].at("object").at("apiVersion"), "meta.k8s.io/v1beta1");

  // A single object: one row, the object's resourceVersion, no continue.
  json::object one = Table("", "configmaps", R"({"kind":"ConfigMap","apiVersion":"v1",
      "metadata":{"name":"a","resourceVersion":"101"}})");
  EXPECT_EQ(one.at("metadata"), (json::object{{"resourceVersion", "101"}}));
  EXPECT_EQ(one.at("rows").as_array().size(), 1u);

  // Later watch events: no headers.
  json::object later = ToTable(Res("", "configmaps"), Parse(list), IncludeObject::kMetadata, "meta.k8s.io/v1", kNow,
                               /*no_headers=*/true);
  EXPECT_TRUE(later.at("columnDefinitions").is_null());
  EXPECT_EQ(later.at("rows").as_array().size(), 2u);

  json::object empty = Table("apps", "deployments", R"({"kind":"DeploymentList","apiVersion":"apps/v1",
      "metadata":{"resourceVersion":"7"},"items":[]})");
  EXPECT_TRUE(empty.at("rows").as_array().empty());
  EXPECT_EQ(ColumnNames(empty).size(), 8u);
}

}  // namespace
}  // namespace kite::apiserver
