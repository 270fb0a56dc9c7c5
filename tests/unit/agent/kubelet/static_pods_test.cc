// StaticPods::MirrorPod: a manifest becomes the mirror pod upstream's kubelet shows.
#include "agent/kubelet/static_pods.h"

#include <gtest/gtest.h>

#include "api/object.h"

namespace kite::kubelet {
namespace {

TEST(StaticPodsTest, AManifestBecomesAMirrorPodOnTheNode) {
  auto pod = StaticPods::MirrorPod(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: web, uid: x, resourceVersion: \"5\"}\n"
      "spec: {containers: [{name: c, image: busybox}]}\nstatus: {phase: Running}\n",
      "n1", "node-uid");
  ASSERT_TRUE(pod.ok()) << pod.error().message();
  EXPECT_EQ(api::Name(*pod), "web-n1");
  EXPECT_EQ(api::Namespace(*pod), "default");
  EXPECT_EQ(api::GetString(*pod, {"spec", "nodeName"}), "n1");
  EXPECT_EQ(api::GetString(*pod, {"metadata", "annotations", "kubernetes.io/config.source"}), "file");
  EXPECT_EQ(api::GetString(*pod, {"metadata", "annotations", "kubernetes.io/config.mirror"}).size(), 32u);
  EXPECT_EQ(api::Uid(*pod), "");
  EXPECT_FALSE(pod->contains("status"));
  const auto& owners = api::GetArray(*pod, {"metadata", "ownerReferences"});
  ASSERT_EQ(owners.size(), 1u);
  EXPECT_EQ(api::GetString(owners[0].as_object(), "kind"), "Node");
  EXPECT_EQ(api::GetString(owners[0].as_object(), "uid"), "node-uid");
}

TEST(StaticPodsTest, AnEditedManifestHasAnotherMirrorHash) {
  auto a = StaticPods::MirrorPod("apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec: {containers: []}\n", "n", "u");
  auto b = StaticPods::MirrorPod("apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec: {containers: [{name: c}]}\n", "n", "u");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(api::GetString(*a, {"metadata", "annotations", "kubernetes.io/config.mirror"}),
            api::GetString(*b, {"metadata", "annotations", "kubernetes.io/config.mirror"}));
}

TEST(StaticPodsTest, WhatIsNotAPodManifestIsRefused) {
  for (const char* text : {"", "[1, 2]", "{{{", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
                           "apiVersion: v1\nkind: Pod\nmetadata: {}\nspec: {}\n",
                           "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"}) {
    EXPECT_FALSE(StaticPods::MirrorPod(text, "n", "u").ok()) << text;
  }
}

}  // namespace
}  // namespace kite::kubelet
