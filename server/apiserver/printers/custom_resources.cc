// Tables of custom resources, from their CRD version's additionalPrinterColumns (tables.h).
#include <boost/json.hpp>

#include <chrono>

#include "api/object.h"
#include "api/json_schema.h"
#include "base/clock.h"
#include "server/apiserver/printers/tables.h"
#include "server/apiserver/storage/registry.h"

namespace kite::apiserver {
namespace json = boost::json;

json::object CustomResourceTable(const api::ResourceInfo& r, const json::object& obj_or_list, bool include_object_full,
                                 bool include_none, const std::string& table_version) {
  json::array columns{json::object{{"name", "Name"}, {"type", "string"}, {"format", "name"},
                                   {"description", "The object's name."}, {"priority", 0}}};
  struct Col {
    std::string path, type;
  };
  std::vector<Col> cols;
  bool have_printer_columns = false;
  if (r.crd_version) {
    auto it = r.crd_version->find("additionalPrinterColumns");
    if (it != r.crd_version->end() && it->value().is_array()) {
      for (const auto& c : it->value().as_array()) {
        if (!c.is_object()) continue;
        const auto& co = c.as_object();
        have_printer_columns = true;
        int64_t priority = co.contains("priority") && co.at("priority").is_int64() ? co.at("priority").as_int64() : 0;
        columns.push_back(json::object{{"name", api::GetString(co, "name")}, {"type", api::GetString(co, "type")},
                                       {"format", api::GetString(co, "format")}, {"description", api::GetString(co, "description")},
                                       {"priority", priority}});
        cols.push_back({api::GetString(co, "jsonPath"), api::GetString(co, "type")});
      }
    }
  }
  if (!have_printer_columns) {
    columns.push_back(json::object{{"name", "Age"}, {"type", "date"}, {"format", ""},
                                   {"description", "Time since the object was created."}, {"priority", 0}});
    cols.push_back({".metadata.creationTimestamp", "date"});
  }
  const auto now = kite::Clock::Real()->Now();
  auto row = [&](const json::object& obj) {
    json::array cells;
    auto mit = obj.find("metadata");
    std::string name = mit != obj.end() && mit->value().is_object() ? api::GetString(mit->value().as_object(), "name") : "";
    cells.push_back(json::string(name));
    json::value root = obj;
    for (const auto& c : cols) {
      auto vals = api::EvalJsonPath(root, c.path);
      if (vals.empty()) {
        cells.push_back(nullptr);
      } else if (c.type == "date") {
        cells.push_back(vals[0].is_string() ? json::value(json::string(HumanAge(vals[0].as_string(), now))) : json::value(nullptr));
      } else if (vals.size() == 1 && !vals[0].is_object() && !vals[0].is_array()) {
        cells.push_back(vals[0]);
      } else {
        std::string joined;
        for (const auto& v : vals) joined += (joined.empty() ? "" : ",") + (v.is_string() ? std::string(v.as_string()) : json::serialize(v));
        cells.push_back(json::string(joined));
      }
    }
    json::object out{{"cells", std::move(cells)}};
    if (include_object_full) {
      out["object"] = obj;
    } else if (!include_none) {
      out["object"] = json::object{{"kind", "PartialObjectMetadata"}, {"apiVersion", table_version},
                                   {"metadata", mit != obj.end() ? mit->value() : json::value(json::object())}};
    }
    return out;
  };
  json::array rows;
  json::object meta;
  auto items = obj_or_list.find("items");
  if (items != obj_or_list.end() && items->value().is_array()) {
    for (const auto& it : items->value().as_array()) {
      if (it.is_object()) rows.push_back(row(it.as_object()));
    }
    if (auto m = obj_or_list.find("metadata"); m != obj_or_list.end() && m->value().is_object()) meta = m->value().as_object();
  } else {
    rows.push_back(row(obj_or_list));
    if (auto m = obj_or_list.find("metadata"); m != obj_or_list.end() && m->value().is_object()) {
      meta["resourceVersion"] = m->value().as_object().contains("resourceVersion") ? m->value().as_object().at("resourceVersion") : json::value("");
    }
  }
  return json::object{{"kind", "Table"}, {"apiVersion", table_version}, {"metadata", std::move(meta)},
                      {"columnDefinitions", std::move(columns)}, {"rows", std::move(rows)}};
}

json::object ConvertToTable(const api::ResourceInfo& r, const json::object& obj_or_list, IncludeObject include,
                            const std::string& table_version) {
  if (r.custom) {
    return CustomResourceTable(r, obj_or_list, include == IncludeObject::kObject, include == IncludeObject::kNone,
                               table_version);
  }
  return ToTable(r, obj_or_list, include, table_version, kite::Clock::Real()->Now());
}

}  // namespace kite::apiserver
