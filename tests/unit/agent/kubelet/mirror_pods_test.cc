// FilePodSource::StaticPod and MirrorPods::MirrorPod: a manifest becomes the static pod the
// kubelet runs and the mirror pod the API shows, as upstream's kubelet makes them.
#include "agent/kubelet/mirror_pods.h"

#include <gtest/gtest.h>

#include "agent/kubelet/file_pod_source.h"
#include "api/object.h"

namespace kite::kubelet {
namespace {

constexpr const char kWeb[] =
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web, uid: x, resourceVersion: \"5\"}\n"
    "spec: {containers: [{name: c, image: busybox}]}\nstatus: {phase: Running}\n";

TEST(StaticPodTest, AManifestBecomesAPodOnTheNodeWithAStableUid) {
  auto pod = FilePodSource::StaticPod(kWeb, "n1");
  ASSERT_TRUE(pod.ok()) << pod.error().message();
  EXPECT_EQ(api::Name(*pod), "web-n1");
  EXPECT_EQ(api::Namespace(*pod), "default");
  EXPECT_EQ(api::GetString(*pod, {"spec", "nodeName"}), "n1");
  EXPECT_EQ(api::GetString(*pod, {"metadata", "annotations", "kubernetes.io/config.source"}), "file");
  EXPECT_EQ(api::Uid(*pod).size(), 32u);
  EXPECT_EQ(api::GetString(*pod, {"metadata", "annotations", "kubernetes.io/config.hash"}), api::Uid(*pod));
  EXPECT_EQ(api::GetString(*pod, {"metadata", "resourceVersion"}), "");
  EXPECT_FALSE(pod->contains("status"));
  // Defaulted as the API server would (the pod runs as its mirror reads).
  EXPECT_EQ(api::GetString(*pod, {"spec", "restartPolicy"}), "Always");
  // The same manifest on the same node: the same uid (a restarted agent adopts its containers).
  EXPECT_EQ(api::Uid(*FilePodSource::StaticPod(kWeb, "n1")), api::Uid(*pod));
  EXPECT_NE(api::Uid(*FilePodSource::StaticPod(kWeb, "n2")), api::Uid(*pod));
}

TEST(StaticPodTest, AnEditedManifestHasAnotherUid) {
  auto a = FilePodSource::StaticPod("apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec: {containers: []}\n", "n");
  auto b = FilePodSource::StaticPod("apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec: {containers: [{name: c}]}\n", "n");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(api::Uid(*a), api::Uid(*b));
}

TEST(StaticPodTest, WhatIsNotAPodManifestIsRefused) {
  for (const char* text : {"", "[1, 2]", "{{{", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
                           "apiVersion: v1\nkind: Pod\nmetadata: {}\nspec: {}\n",
                           "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"}) {
    EXPECT_FALSE(FilePodSource::StaticPod(text, "n").ok()) << text;
  }
}

TEST(MirrorPodTest, TheMirrorIsTheStaticPodWithoutItsUidOwnedByTheNode) {
  auto pod = FilePodSource::StaticPod(kWeb, "n1");
  ASSERT_TRUE(pod.ok());
  const boost::json::object mirror = MirrorPods::MirrorPod(*pod, "node-uid");
  EXPECT_EQ(api::Name(mirror), "web-n1");
  EXPECT_EQ(api::Uid(mirror), "");
  EXPECT_EQ(api::GetString(mirror, {"metadata", "annotations", "kubernetes.io/config.mirror"}), api::Uid(*pod));
  EXPECT_EQ(api::GetString(mirror, {"metadata", "annotations", "kubernetes.io/config.source"}), "file");
  const auto& owners = api::GetArray(mirror, {"metadata", "ownerReferences"});
  ASSERT_EQ(owners.size(), 1u);
  EXPECT_EQ(api::GetString(owners[0].as_object(), "kind"), "Node");
  EXPECT_EQ(api::GetString(owners[0].as_object(), "name"), "n1");
  EXPECT_EQ(api::GetString(owners[0].as_object(), "uid"), "node-uid");
}

}  // namespace
}  // namespace kite::kubelet
