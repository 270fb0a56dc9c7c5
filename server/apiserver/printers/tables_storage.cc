// Table columns of PersistentVolumes and PersistentVolumeClaims (core) and StorageClasses
// (storage.k8s.io), as upstream's printers; fields upstream defaults before storage (phase, reclaim
// policy, volume mode) are read with their defaults.
#include <algorithm>

#include "server/apiserver/printers/tables_kinds.h"

namespace kite::apiserver::tables {
namespace {

// ---- storage -------------------------------------------------------------------------------------

std::string AccessModes(const json::array& modes) {
  const std::vector<std::string> m = api::AsStrings(modes);
  auto has = [&](std::string_view s) { return std::find(m.begin(), m.end(), s) != m.end(); };
  std::vector<std::string> out;
  if (has("ReadWriteOnce")) out.push_back("RWO");
  if (has("ReadOnlyMany")) out.push_back("ROX");
  if (has("ReadWriteMany")) out.push_back("RWX");
  if (has("ReadWriteOncePod")) out.push_back("RWOP");
  return Join(out, ",");
}

constexpr std::string_view kBetaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class";

// The cells a PV and a PVC print alike: the storage class (the beta annotation wins over
// spec.storageClassName), the volume attributes class and the volume mode (defaulted).
struct ClassCells {
  std::string storage_class, attributes_class, mode;
};

ClassCells ClassCellsOf(const json::object& o, const json::object& spec) {
  const json::object& annotations = api::GetObject(api::Metadata(o), "annotations");
  ClassCells c;
  c.storage_class = api::Find(annotations, kBetaStorageClassAnnotation)
                        ? api::GetString(annotations, kBetaStorageClassAnnotation)
                        : api::GetString(spec, "storageClassName");
  c.attributes_class =
      api::Find(spec, "volumeAttributesClassName") ? api::GetString(spec, "volumeAttributesClassName") : "<unset>";
  c.mode = api::Find(spec, "volumeMode") ? api::GetString(spec, "volumeMode") : "Filesystem";
  return c;
}

constexpr Column kPersistentVolumeColumns[] = {
    kNameCol,
    {"Capacity", "string", "", "Storage capacity of the volume.", 0},
    {"Access Modes", "string", "", "How the volume can be mounted (RWO, ROX, RWX, RWOP).", 0},
    {"Reclaim Policy", "string", "", "What happens to the volume when its claim is released.", 0},
    {"Status", "string", "", "Phase of the volume: Available, Bound, Released, Failed.", 0},
    {"Claim", "string", "", "The claim (namespace/name) bound to the volume.", 0},
    {"StorageClass", "string", "", "Storage class of the volume.", 0},
    {"VolumeAttributesClass", "string", "", "Volume attributes class of the volume.", 0},
    {"Reason", "string", "", "Why the volume is in its phase, if reported.", 0},
    kAgeCol,
    {"VolumeMode", "string", "", "Filesystem or Block.", 1},
};

PrintedRow PrintPersistentVolume(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  const json::object& status = api::GetObject(o, "status");
  std::string claim;
  if (const json::object* ref = api::FindObject(spec, "claimRef"))
    claim = api::GetString(*ref, "namespace") + "/" + api::GetString(*ref, "name");
  // Defaulting: phase Pending, reclaim policy Retain, volume mode Filesystem.
  std::string phase = api::IsBeingDeleted(o) ? "Terminating" : api::GetString(status, "phase");
  if (phase.empty()) phase = "Pending";
  std::string reclaim = api::GetString(spec, "persistentVolumeReclaimPolicy");
  if (reclaim.empty()) reclaim = "Retain";
  const ClassCells classes = ClassCellsOf(o, spec);
  return Row({json::value(api::Name(o)),
              json::value(QuantityString(api::Find(api::GetObject(spec, "capacity"), "storage"))),
              json::value(AccessModes(api::GetArray(spec, "accessModes"))), json::value(reclaim), json::value(phase),
              json::value(claim), json::value(classes.storage_class), json::value(classes.attributes_class),
              json::value(api::GetString(status, "reason")), json::value(Age(o, ctx)), json::value(classes.mode)});
}

constexpr Column kPersistentVolumeClaimColumns[] = {
    kNameCol,
    {"Status", "string", "", "Phase of the claim: Pending, Bound or Lost.", 0},
    {"Volume", "string", "", "The volume bound to the claim.", 0},
    {"Capacity", "string", "", "Storage capacity of the bound volume.", 0},
    {"Access Modes", "string", "", "Access modes of the bound volume (RWO, ROX, RWX, RWOP).", 0},
    {"StorageClass", "string", "", "Storage class the claim asks for.", 0},
    {"VolumeAttributesClass", "string", "", "Volume attributes class the claim asks for.", 0},
    kAgeCol,
    {"VolumeMode", "string", "", "Filesystem or Block.", 1},
};

PrintedRow PrintPersistentVolumeClaim(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  const json::object& status = api::GetObject(o, "status");
  std::string phase = api::IsBeingDeleted(o) ? "Terminating" : api::GetString(status, "phase");
  if (phase.empty()) phase = "Pending";  // defaulting, as the volume mode below
  std::string capacity, modes;
  if (!api::GetString(spec, "volumeName").empty()) {
    modes = AccessModes(api::GetArray(status, "accessModes"));
    capacity = QuantityString(api::Find(api::GetObject(status, "capacity"), "storage"));
  }
  const ClassCells classes = ClassCellsOf(o, spec);
  return Row({json::value(api::Name(o)), json::value(phase), json::value(api::GetString(spec, "volumeName")),
              json::value(capacity), json::value(modes), json::value(classes.storage_class),
              json::value(classes.attributes_class), json::value(Age(o, ctx)), json::value(classes.mode)});
}

constexpr Column kStorageClassColumns[] = {
    kNameCol,
    {"Provisioner", "string", "", "The volume plugin that provisions volumes of this class.", 0},
    {"ReclaimPolicy", "string", "", "Reclaim policy of volumes provisioned for this class.", 0},
    {"VolumeBindingMode", "string", "", "When volumes are bound: Immediate or WaitForFirstConsumer.", 0},
    {"AllowVolumeExpansion", "string", "", "Whether claims of this class may be resized.", 0},
    kAgeCol,
};

PrintedRow PrintStorageClass(const json::object& o, const PrintContext& ctx) {
  const json::object& annotations = api::GetObject(api::Metadata(o), "annotations");
  std::string name = api::Name(o);
  if (api::GetString(annotations, "storageclass.kubernetes.io/is-default-class") == "true" ||
      api::GetString(annotations, "storageclass.beta.kubernetes.io/is-default-class") == "true") {
    name += " (default)";
  }
  std::string reclaim = api::Find(o, "reclaimPolicy") ? api::GetString(o, "reclaimPolicy") : "Delete";
  std::string binding = api::Find(o, "volumeBindingMode") ? api::GetString(o, "volumeBindingMode") : "Immediate";
  return Row({json::value(name), json::value(api::GetString(o, "provisioner")), json::value(reclaim),
              json::value(binding), json::value(api::GetBool(o, "allowVolumeExpansion")), json::value(Age(o, ctx))});
}

const PrinterEntry kStoragePrinters[] = {
    {"", "persistentvolumes", {kPersistentVolumeColumns, PrintPersistentVolume}},
    {"", "persistentvolumeclaims", {kPersistentVolumeClaimColumns, PrintPersistentVolumeClaim}},
    {"storage.k8s.io", "storageclasses", {kStorageClassColumns, PrintStorageClass}},
};

}  // namespace

std::span<const PrinterEntry> StoragePrinters() { return kStoragePrinters; }

}  // namespace kite::apiserver::tables
