// The field-by-field mapping between agent/cri/runtime.h's structs and the CRI v1 messages
// (proto/cri/runtime/v1/api.proto), both ways. CriClient's private half; kept apart so the
// mapping can be read (and tested) without the gRPC calls around it.
#pragma once

#include "agent/cri/runtime.h"
#include "cri/runtime/v1/api.pb.h"

namespace kite::cri::wire {

// kite -> CRI (what the kubelet sends)
void ToProto(const PodSandboxConfig& in, runtime::v1::PodSandboxConfig* out);
// `sandbox`: the pod's config, for what CRI repeats per container (namespaces).
void ToProto(const ContainerConfig& in, const PodSandboxConfig& sandbox, runtime::v1::ContainerConfig* out);
void ToProto(const PodSandboxFilter& in, runtime::v1::PodSandboxFilter* out);
void ToProto(const ContainerFilter& in, runtime::v1::ContainerFilter* out);
void ToProto(const AuthConfig& in, runtime::v1::AuthConfig* out);

// CRI -> kite (what the runtime answers)
VersionInfo FromProto(const runtime::v1::VersionResponse& in);
PodSandbox FromProto(const runtime::v1::PodSandbox& in);
PodSandboxStatus FromProto(const runtime::v1::PodSandboxStatus& in);
Container FromProto(const runtime::v1::Container& in);
ContainerStatus FromProto(const runtime::v1::ContainerStatus& in);
RuntimeCondition FromProto(const runtime::v1::RuntimeCondition& in);
Image FromProto(const runtime::v1::Image& in);

}  // namespace kite::cri::wire
