// kite-hollow's fake container runtime: pod IPs from the node's pod CIDR, containers that run
// until stopped or for their lifetime, idempotent stops and removals, image ids.
#include <gtest/gtest.h>

#include <thread>

#include "agent/hollow/hollow_runtime.h"

namespace kite::hollow {
namespace {

using namespace std::chrono_literals;

cri::PodSandboxConfig Sandbox(const std::string& uid, bool host_network = false) {
  cri::PodSandboxConfig c;
  c.metadata = {"pod-" + uid, uid, "ns", 0};
  c.host_network = host_network;
  c.labels = {{"io.kubernetes.pod.uid", uid}};
  return c;
}

std::string Ip(HollowRuntime& rt, const std::string& id) {
  auto st = rt.PodSandboxStatus(id);
  return st.ok() ? st->ip : "error";
}

TEST(HollowRuntimeTest, PodIpsAreUniquePerNodeAndReused) {
  HollowRuntime n0("10.64.0.0/24", nullptr), n1("10.64.1.0/24", nullptr);
  auto a = n0.RunPodSandbox(Sandbox("a"));
  auto b = n0.RunPodSandbox(Sandbox("b"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(Ip(n0, *a), "10.64.0.2");  // .1 is the node's bridge
  EXPECT_EQ(Ip(n0, *b), "10.64.0.3");
  EXPECT_EQ(n0.RunPodSandbox(Sandbox("a")).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(Ip(n0, *a), "10.64.0.2");  // asked again: the same
  EXPECT_EQ(Ip(n1, *n1.RunPodSandbox(Sandbox("c"))), "10.64.1.2");
  EXPECT_EQ(Ip(n0, *n0.RunPodSandbox(Sandbox("host", true))), "");  // the kubelet uses the node's
  ASSERT_TRUE(n0.StopPodSandbox(*a).ok());  // a stopped sandbox gives its IP back
  EXPECT_EQ(Ip(n0, *a), "");
  EXPECT_EQ(Ip(n0, *n0.RunPodSandbox(Sandbox("e"))), "10.64.0.2");
  EXPECT_EQ(Ip(n0, *n0.RunPodSandbox(Sandbox("f"))), "10.64.0.4");
  EXPECT_TRUE(n0.RemovePodSandbox(*a).ok());
  EXPECT_TRUE(n0.RemovePodSandbox(*a).ok());  // idempotent
  EXPECT_EQ(n0.PodSandboxStatus(*a).status().code(), Code::kNotFound);
  // A node that kept another pod CIDR hands out from that one; a full one hands out nothing.
  ASSERT_TRUE(n1.UpdateRuntimeConfig("192.168.7.0/30").ok());
  EXPECT_EQ(Ip(n1, *n1.RunPodSandbox(Sandbox("g"))), "192.168.7.2");
  EXPECT_EQ(n1.RunPodSandbox(Sandbox("h")).status().code(), Code::kResourceExhausted);
}

TEST(HollowRuntimeTest, ContainersRunUntilStoppedOrForTheirLifetime) {
  HollowRuntime rt("10.64.0.0/24", [](const cri::PodSandboxMetadata& pod, const std::string& name)
                                       -> std::optional<std::chrono::milliseconds> {
    if (pod.uid == "job") return name == "init" ? 0ms : 50ms;
    return std::nullopt;
  });
  auto web = rt.RunPodSandbox(Sandbox("web"));
  auto job = rt.RunPodSandbox(Sandbox("job"));
  ASSERT_TRUE(web.ok() && job.ok());
  cri::ContainerConfig main;
  main.metadata.name = "main";
  main.image.image = "nginx:1.26";
  cri::ContainerConfig init = main;
  init.metadata.name = "init";
  auto w = rt.CreateContainer(*web, main, Sandbox("web"));
  auto i = rt.CreateContainer(*job, init, Sandbox("job"));
  auto j = rt.CreateContainer(*job, main, Sandbox("job"));
  ASSERT_TRUE(w.ok() && i.ok() && j.ok());
  EXPECT_EQ(*w, "web-main");
  EXPECT_EQ(rt.ContainerStatus(*w)->state, cri::ContainerState::kCreated);
  EXPECT_EQ(rt.ContainerStatus(*w)->image_ref.substr(0, 18), "nginx:1.26@sha256:");
  for (const auto& id : {*w, *i, *j}) ASSERT_TRUE(rt.StartContainer(id).ok());
  EXPECT_FALSE(rt.StartContainer(*w).ok());  // started already
  EXPECT_EQ(rt.ContainerStatus(*w)->state, cri::ContainerState::kRunning);
  auto done = rt.ContainerStatus(*i);
  EXPECT_EQ(done->state, cri::ContainerState::kExited);
  EXPECT_EQ(done->exit_code, 0);
  EXPECT_EQ(done->reason, "Completed");
  EXPECT_EQ(rt.ContainerStatus(*j)->state, cri::ContainerState::kRunning);
  std::this_thread::sleep_for(60ms);
  auto finished = rt.ContainerStatus(*j);
  EXPECT_EQ(finished->state, cri::ContainerState::kExited);
  EXPECT_EQ(finished->finished_at - finished->started_at, 50'000'000);
  EXPECT_EQ(rt.ContainerStatus(*w)->state, cri::ContainerState::kRunning);  // no lifetime: runs on
  cri::ContainerFilter running;
  running.state = cri::ContainerState::kRunning;
  EXPECT_EQ(rt.ListContainers(running)->size(), 1u);
  cri::PodSandboxFilter of_web;
  of_web.label_selector = {{"io.kubernetes.pod.uid", "web"}};
  ASSERT_EQ(rt.ListPodSandbox(of_web)->size(), 1u);
  // Stopping the sandbox stops its containers; removing it removes them.
  ASSERT_TRUE(rt.StopPodSandbox(*web).ok());
  EXPECT_EQ(rt.ContainerStatus(*w)->state, cri::ContainerState::kExited);
  ASSERT_TRUE(rt.RemovePodSandbox(*web).ok());
  EXPECT_EQ(rt.ContainerStatus(*w).status().code(), Code::kNotFound);
  EXPECT_TRUE(rt.StopContainer(*w, 30).ok());  // idempotent on a container that is gone
}

TEST(HollowRuntimeTest, ImagesArePulledOnceAndNamedByDigest) {
  HollowRuntime rt("10.64.0.0/24", nullptr);
  cri::ImageSpec nginx{"nginx:1.26"}, pinned{"img@sha256:abc"};
  EXPECT_FALSE(rt.ImageStatus(nginx)->has_value());
  auto ref = rt.PullImage(nginx, std::nullopt, Sandbox("x"));
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(*ref, HollowRuntime::ImageRef("nginx:1.26"));
  EXPECT_EQ(ref->size(), std::string("nginx:1.26@sha256:").size() + 64);
  EXPECT_EQ(HollowRuntime::ImageRef("img@sha256:abc"), "img@sha256:abc");
  ASSERT_TRUE(rt.ImageStatus(nginx)->has_value());
  EXPECT_EQ((*rt.ImageStatus(nginx))->repo_tags, std::vector<std::string>{"nginx:1.26"});
  ASSERT_TRUE(rt.PullImage(pinned, std::nullopt, Sandbox("x")).ok());
  EXPECT_EQ(rt.ListImages()->size(), 2u);
  ASSERT_TRUE(rt.RemoveImage(nginx).ok());
  EXPECT_FALSE(rt.ImageStatus(nginx)->has_value());
}

TEST(HollowRuntimeTest, VersionSaysHollow) {
  HollowRuntime rt("10.64.0.0/24", nullptr);
  auto v = rt.Version();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->runtime_name + "://" + v->runtime_version, "hollow://1.0");
}

}  // namespace
}  // namespace kite::hollow
