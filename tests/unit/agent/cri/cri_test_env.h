// What the CRI tests need around a real containerd: a private network namespace (the pods'
// bridge, veths and NAT rules never touch the host's network), a temporary data dir, a cgroup
// parent of its own, the test images imported, and a sweep that removes everything a run left
// (its containerd and shims, the containers in its cgroup, mounts under its dirs, the dirs).
#pragma once

#include <memory>
#include <string>

#include "agent/cri/containerd.h"
#include "agent/cri/cri_client.h"

namespace kite::cri::testing {

// Why the real-containerd tests cannot run here ("" when they can): not root, no containerd,
// no ctr, no test images.
std::string RealContainerdSkipReason();

// Moves the calling thread (and so every thread and process it starts later) into a new network
// namespace with its loopback up. Call before starting containerd.
kite::Status EnterPrivateNetworkNamespace();

// A fresh /tmp/kite-cri-test.XXXXXX, marked with this process's pid (the sweep leaves dirs of
// live processes alone).
std::string MakeTestDataDir();
// The cgroup (cgroupfs path) the tests' pods live under, one per data dir.
std::string TestCgroupParent(const std::string& data_dir);
// Removes what a test run with this data dir left: kills its containerd and shims and the
// processes in its cgroup, unmounts everything under its dirs, removes the dirs and cgroups.
void SweepDataDir(const std::string& data_dir);
// Sweeps the data dirs of earlier runs whose process is gone.
void SweepLeftovers();

// `ctr images import` of an image archive into containerd's CRI namespace, unpacked for
// `snapshotter`; returns ctr's output on failure, "" on success.
std::string ImportImage(const std::string& socket, const std::string& snapshotter, const std::string& archive);

// build/images/ holds kite's pause image and the busybox test image (packaging/images/, whose
// CMake file owns their references: the build passes them in).
inline constexpr const char* kImagesDir = KITE_IMAGES_DIR;
inline constexpr const char* kPauseImage = KITE_PAUSE_IMAGE;
inline constexpr const char* kBusyboxImage = KITE_TEST_IMAGE;

}  // namespace kite::cri::testing
