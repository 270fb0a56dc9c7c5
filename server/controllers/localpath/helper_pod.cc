#include "server/controllers/localpath/helper_pod.h"

#include "api/object.h"

namespace kite::controllers::localpath {
namespace json = boost::json;

std::string HelperPodName(const std::string& volume) { return "helper-pod-delete-" + volume; }

std::string VolumeNode(const json::object& pv) {
  for (const auto& term : api::GetArray(pv, {"spec", "nodeAffinity", "required", "nodeSelectorTerms"})) {
    if (!term.is_object()) continue;
    for (const auto& e : api::GetArray(term.as_object(), "matchExpressions")) {
      if (!e.is_object()) continue;
      const auto& expr = e.as_object();
      if (api::GetString(expr, "key") != "kubernetes.io/hostname" || api::GetString(expr, "operator") != "In") continue;
      const auto& values = api::GetArray(expr, "values");
      if (values.size() == 1 && values[0].is_string()) return std::string(values[0].as_string());
    }
  }
  return "";
}

Result<json::object> DeleteHelperPod(const json::object& pv, const std::string& storage_dir, const std::string& image) {
  const std::string path = api::GetString(pv, {"spec", "hostPath", "path"});
  std::string dir = storage_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const std::string prefix = dir + "/";
  const std::string base = path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : "";
  if (base.empty() || base == "." || base == ".." || base.find('/') != std::string::npos) {
    return Status(Code::kInvalidArgument, "hostPath " + path + " is not a directory directly under " + dir);
  }
  const std::string node = VolumeNode(pv);
  if (node.empty()) return Status(Code::kInvalidArgument, "no kubernetes.io/hostname node affinity");
  const std::string volume = api::Name(pv);
  return json::object{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       json::object{{"name", HelperPodName(volume)},
                    {"namespace", kHelperNamespace},
                    {"labels", json::object{{kHelperVolumeLabel, volume}}},
                    {"ownerReferences", json::array{json::object{{"apiVersion", "v1"},
                                                                 {"kind", "PersistentVolume"},
                                                                 {"name", volume},
                                                                 {"uid", api::Uid(pv)}}}}}},
      {"spec",
       json::object{
           {"nodeName", node},
           {"restartPolicy", "Never"},
           {"automountServiceAccountToken", false},
           {"tolerations", json::array{json::object{{"operator", "Exists"}}}},
           {"containers",
            json::array{json::object{{"name", "helper-pod"},
                                     {"image", image},
                                     {"imagePullPolicy", "IfNotPresent"},
                                     {"command", json::array{"/kite-local-path-helper", "delete", "/data/" + base}},
                                     {"volumeMounts", json::array{json::object{{"name", "data"}, {"mountPath", "/data"}}}}}}},
           {"volumes", json::array{json::object{
                           {"name", "data"},
                           {"hostPath", json::object{{"path", dir}, {"type", "DirectoryOrCreate"}}}}}}}}};
}

}  // namespace kite::controllers::localpath
