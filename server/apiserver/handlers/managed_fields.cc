#include "server/apiserver/handlers/managed_fields.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "api/object.h"
#include "api/time.h"
#include "api/json_text.h"
#include "server/apiserver/storage/registry.h"

namespace kite::apiserver {
namespace json = boost::json;
using api::schema::Field;
using api::schema::Type;
using api::schema::ValueKind;

namespace {

constexpr int kMaxDepth = 64;

bool SkipTopLevel(std::string_view k) { return k == "apiVersion" || k == "kind"; }

bool SkipMeta(std::string_view k) {
  return k == "name" || k == "namespace" || k == "uid" || k == "resourceVersion" || k == "generation" ||
         k == "creationTimestamp" || k == "deletionTimestamp" || k == "deletionGracePeriodSeconds" ||
         k == "managedFields" || k == "selfLink";
}

const Type* ChildType(const Field* f) {
  return f && f->kind == ValueKind::kMessage && f->type && !f->type->wrapper ? f->type : nullptr;
}

std::string KeyElement(const json::object& item, const std::string& merge_key) {
  json::object k;
  if (auto it = item.find(merge_key); it != item.end()) k[merge_key] = it->value();
  return "k:" + json::serialize(k);
}

const json::value* Step(const json::value& cur, const std::string& el);

// The value at p[from..] under `start`.
const json::value* ValueFrom(const json::value& start, const FieldPath& p, size_t from) {
  const json::value* cur = &start;
  for (size_t i = from; i < p.size() && cur; ++i) cur = Step(*cur, p[i]);
  return cur;
}

// The leaf paths of an object (LeafFields) or, given the old version beside it, only those that
// are new or differ (ChangedFields): a field whose value equals the old one is skipped whole, as
// no leaf under it can differ. (ChangedFields used to list every leaf of the new object and look
// each up in copies of both, which was most of the cost of a status patch.) Lists that merge by
// key list their leaves and look each up in the old list.
void WalkValue(const json::value* old_v, const json::value& v, const Field* f, FieldPath& path,
               std::vector<FieldPath>& out, int depth);

// `map_of`: the object is a map field (keys are data, values described by map_of).
void WalkObject(const json::object* old_o, const json::object& o, const Type* t, const Field* map_of,
                FieldPath& path, std::vector<FieldPath>& out, int depth) {
  if (depth > kMaxDepth) {
    out.push_back(path);
    return;
  }
  const bool top = path.empty();
  const bool in_meta = path.size() == 1 && path[0] == "f:metadata";
  for (const auto& kv : o) {
    std::string_view k = kv.key();
    if (top && SkipTopLevel(k)) continue;
    if (in_meta && SkipMeta(k)) continue;
    const json::value* old_v = nullptr;
    if (old_o) {
      if (auto it = old_o->find(k); it != old_o->end()) old_v = &it->value();
    }
    if (old_v && *old_v == kv.value()) continue;
    const json::object* old_child = old_v && old_v->is_object() ? &old_v->as_object() : nullptr;
    const Field* f = map_of ? map_of : (t ? t->Find(k) : nullptr);
    path.push_back("f:" + std::string(k));
    if (map_of && !(map_of->kind == ValueKind::kMessage)) {
      out.push_back(path);  // map of scalars: each entry is a leaf
    } else if (map_of) {
      if (kv.value().is_object() && !kv.value().as_object().empty()) {
        WalkObject(old_child, kv.value().as_object(), ChildType(map_of), nullptr, path, out, depth + 1);
      } else {
        out.push_back(path);
      }
    } else {
      WalkValue(old_v, kv.value(), f, path, out, depth + 1);
    }
    path.pop_back();
  }
}

void WalkValue(const json::value* old_v, const json::value& v, const Field* f, FieldPath& path,
               std::vector<FieldPath>& out, int depth) {
  const json::object* old_o = old_v && old_v->is_object() ? &old_v->as_object() : nullptr;
  if (v.is_object() && !v.as_object().empty() && (!f || !f->repeated)) {
    if (f && f->map) {
      WalkObject(old_o, v.as_object(), nullptr, f, path, out, depth);
    } else if (f && f->kind != ValueKind::kMessage && f->kind != ValueKind::kJson && f->kind != ValueKind::kRawExtension) {
      out.push_back(path);
    } else {
      WalkObject(old_o, v.as_object(), ChildType(f), nullptr, path, out, depth);
    }
    return;
  }
  if (v.is_array() && f && f->MergesList() && old_v) {
    std::vector<FieldPath> leaves;
    WalkValue(nullptr, v, f, path, leaves, depth);
    const size_t from = path.size();
    for (auto& p : leaves) {
      const json::value* a = ValueFrom(*old_v, p, from);
      const json::value* b = ValueFrom(v, p, from);
      if (p.back() == "." && a) continue;  // an item that already existed
      if (!a || !b || !(*a == *b) || p.back() == ".") out.push_back(std::move(p));
    }
    return;
  }
  if (v.is_array() && f && f->MergesList()) {
    const auto& a = v.as_array();
    for (const auto& item : a) {
      if (item.is_object() && !f->patch_merge_key.empty()) {
        path.push_back(KeyElement(item.as_object(), f->patch_merge_key));
        path.push_back(".");
        out.push_back(path);
        path.pop_back();
        WalkObject(nullptr, item.as_object(), ChildType(f), nullptr, path, out, depth + 1);
        path.pop_back();
      } else {
        path.push_back("v:" + json::serialize(item));
        out.push_back(path);
        path.pop_back();
      }
    }
    return;
  }
  out.push_back(path);  // scalars, atomic lists, empty objects (new or differing, given old_v)
}

const json::value* Step(const json::value& cur, const std::string& el) {
  if (el == ".") return &cur;
  if (el.rfind("f:", 0) == 0) {
    if (!cur.is_object()) return nullptr;
    auto it = cur.as_object().find(el.substr(2));
    return it == cur.as_object().end() ? nullptr : &it->value();
  }
  if (!cur.is_array()) return nullptr;
  auto want = api::ParseJson(el.substr(2));
  if (!want.ok()) return nullptr;
  for (const auto& item : cur.as_array()) {
    if (el[0] == 'v') {
      if (item == want.value()) return &item;
    } else if (item.is_object() && want->is_object()) {
      bool match = true;
      for (const auto& kv : want->as_object()) {
        auto it = item.as_object().find(kv.key());
        match &= it != item.as_object().end() && it->value() == kv.value();
      }
      if (match) return &item;
    }
  }
  return nullptr;
}

const json::value* ValueAt(const json::value& root, const FieldPath& p) {
  const json::value* cur = &root;
  for (const auto& el : p) {
    cur = Step(*cur, el);
    if (!cur) return nullptr;
  }
  return cur;
}

void RemoveAt(json::value& root, const FieldPath& p) {
  if (p.empty()) return;
  json::value* cur = &root;
  for (size_t i = 0; i + 1 < p.size(); ++i) {
    const json::value* next = Step(*cur, p[i]);
    if (!next) return;
    cur = const_cast<json::value*>(next);
  }
  const std::string& last = p.back();
  if (last == ".") {
    // A keyed list item: remove it from its list.
    if (p.size() < 2) return;
    FieldPath list_path(p.begin(), p.end() - 2);
    const json::value* list = ValueAt(root, list_path);
    const json::value* item = ValueAt(root, FieldPath(p.begin(), p.end() - 1));
    if (!list || !item || !list->is_array()) return;
    auto& a = const_cast<json::value*>(list)->as_array();
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (&*it == item) {
        a.erase(it);
        return;
      }
    }
    return;
  }
  if (last.rfind("f:", 0) == 0 && cur->is_object()) {
    cur->as_object().erase(last.substr(2));
  } else if (cur->is_array()) {
    const json::value* item = Step(*cur, last);
    auto& a = cur->as_array();
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (&*it == item) {
        a.erase(it);
        return;
      }
    }
  }
}

json::value MergeApplied(const json::value& live, const json::value& applied, const Field* f, const Type* t,
                         int depth) {
  if (depth > kMaxDepth) return applied;
  if (applied.is_object() && live.is_object() && (!f || !f->repeated)) {
    json::object out = live.as_object();
    for (const auto& kv : applied.as_object()) {
      const Field* cf = f && f->map ? f : (t ? t->Find(kv.key()) : nullptr);
      const Type* ct = f && f->map ? ChildType(f) : ChildType(cf);
      if (f && f->map && f->kind != ValueKind::kMessage) cf = nullptr, ct = nullptr;
      auto it = out.find(kv.key());
      if (it == out.end()) out[kv.key()] = kv.value();
      else it->value() = MergeApplied(it->value(), kv.value(), (f && f->map) ? nullptr : cf, ct, depth + 1);
    }
    return out;
  }
  if (applied.is_array() && live.is_array() && f && f->MergesList()) {
    json::array out = live.as_array();
    for (const auto& item : applied.as_array()) {
      json::value* match = nullptr;
      for (auto& l : out) {
        if (item.is_object() && l.is_object() && !f->patch_merge_key.empty()) {
          auto a = item.as_object().find(f->patch_merge_key);
          auto b = l.as_object().find(f->patch_merge_key);
          if (a != item.as_object().end() && b != l.as_object().end() && a->value() == b->value()) match = &l;
        } else if (l == item) {
          match = &l;
        }
        if (match) break;
      }
      if (!match) out.push_back(item);
      else if (item.is_object()) *match = MergeApplied(*match, item, nullptr, ChildType(f), depth + 1);
    }
    return out;
  }
  return applied;
}

std::string Key(const FieldPath& p) {
  std::string s;
  for (const auto& e : p) s += e + '\x1f';
  return s;
}


json::array& ManagedFields(json::object& obj) {
  json::value& m = api::MutableObject(obj, "metadata")["managedFields"];
  if (!m.is_array()) m = json::array();
  return m.as_array();
}

// Removes `drop` from every entry except (manager, operation); drops emptied entries.
void Disown(json::array& managed, const std::set<std::string>& drop, const std::string& manager,
            const std::string& operation) {
  for (auto it = managed.begin(); it != managed.end();) {
    if (!it->is_object()) {
      it = managed.erase(it);
      continue;
    }
    auto& e = it->as_object();
    if (api::GetString(e, "manager") == manager && api::GetString(e, "operation") == operation) {
      ++it;
      continue;
    }
    std::vector<FieldPath> kept;
    auto fv = e.find("fieldsV1");
    if (fv != e.end() && fv->value().is_object()) {
      for (auto& p : FromFieldsV1(fv->value().as_object())) {
        if (!drop.count(Key(p))) kept.push_back(std::move(p));
      }
    }
    if (kept.empty()) {
      it = managed.erase(it);
      continue;
    }
    e["fieldsV1"] = ToFieldsV1(kept);
    ++it;
  }
}

json::object* FindEntry(json::array& managed, const std::string& manager, const std::string& operation) {
  for (auto& m : managed) {
    if (m.is_object() && api::GetString(m.as_object(), "manager") == manager && api::GetString(m.as_object(), "operation") == operation) {
      return &m.as_object();
    }
  }
  return nullptr;
}

void SetEntry(json::array& managed, const std::string& manager, const std::string& operation,
              const std::string& api_version, const std::vector<FieldPath>& fields) {
  json::object* e = FindEntry(managed, manager, operation);
  if (fields.empty()) {
    if (e) {
      for (auto it = managed.begin(); it != managed.end(); ++it) {
        if (&it->as_object() == e) {
          managed.erase(it);
          break;
        }
      }
    }
    return;
  }
  if (!e) {
    managed.push_back(json::object());
    e = &managed.back().as_object();
  }
  (*e)["manager"] = manager;
  (*e)["operation"] = operation;
  (*e)["apiVersion"] = api_version;
  (*e)["time"] = api::NowTime();
  (*e)["fieldsType"] = "FieldsV1";
  (*e)["fieldsV1"] = ToFieldsV1(fields);
}

std::vector<FieldPath> EntryFields(const json::object* e) {
  if (!e) return {};
  auto fv = e->find("fieldsV1");
  if (fv == e->end() || !fv->value().is_object()) return {};
  return FromFieldsV1(fv->value().as_object());
}

}  // namespace

std::vector<FieldPath> LeafFields(const json::object& obj, const Type* type) {
  std::vector<FieldPath> out;
  FieldPath path;
  WalkObject(nullptr, obj, type, nullptr, path, out, 0);
  return out;
}

std::vector<FieldPath> ChangedFields(const json::object& old_obj, const json::object& new_obj, const Type* type) {
  std::vector<FieldPath> out;
  FieldPath path;
  WalkObject(&old_obj, new_obj, type, nullptr, path, out, 0);
  return out;
}

json::object ToFieldsV1(const std::vector<FieldPath>& paths) {
  json::object root;
  for (const auto& p : paths) {
    json::object* cur = &root;
    for (const auto& el : p) {
      json::value& next = (*cur)[el];
      if (!next.is_object()) next = json::object();
      cur = &next.as_object();
    }
  }
  return root;
}

bool HasAnyField(const json::object& fields_v1, const std::vector<FieldPath>& paths) {
  for (const auto& p : paths) {
    const json::object* cur = &fields_v1;
    const json::value* node = nullptr;
    for (const auto& el : p) {
      if (!cur) break;
      auto it = cur->find(el);
      if (it == cur->end()) {
        node = nullptr;
        break;
      }
      node = &it->value();
      cur = node->is_object() ? &node->as_object() : nullptr;
    }
    // FromFieldsV1 lists a path exactly when it ends at a leaf (an empty object).
    if (node && (!node->is_object() || node->as_object().empty()) && !p.empty()) return true;
  }
  return false;
}

std::vector<FieldPath> FromFieldsV1(const json::object& fields) {
  std::vector<FieldPath> out;
  FieldPath path;
  auto walk = [&](auto&& self, const json::object& o, int depth) -> void {
    if (depth > kMaxDepth) return;
    for (const auto& kv : o) {
      path.push_back(std::string(kv.key()));
      if (!kv.value().is_object() || kv.value().as_object().empty()) out.push_back(path);
      else self(self, kv.value().as_object(), depth + 1);
      path.pop_back();
    }
  };
  walk(walk, fields, 0);
  return out;
}

std::string PathString(const FieldPath& p) {
  std::string s;
  for (const auto& el : p) {
    if (el == ".") continue;
    if (el.rfind("f:", 0) == 0) {
      s += "." + el.substr(2);
    } else if (el.rfind("k:", 0) == 0) {
      auto v = api::ParseJson(el.substr(2));
      std::string inner;
      if (v.ok() && v->is_object()) {
        for (const auto& kv : v->as_object()) {
          inner += (inner.empty() ? "" : ",") + std::string(kv.key()) + "=" + json::serialize(kv.value());
        }
      }
      s += "[" + inner + "]";
    } else {
      s += "[=" + el.substr(2) + "]";
    }
  }
  return s;
}

Result<json::object> ServerSideApply(const json::object& live, const json::object& applied, const std::string& manager,
                                    const std::string& api_version, bool force, const Type* type) {
  json::object result = live;
  json::array& managed = ManagedFields(result);
  const std::vector<FieldPath> mine = LeafFields(applied, type);
  std::set<std::string> mine_keys;
  for (const auto& p : mine) mine_keys.insert(Key(p));
  const json::value live_v = live, applied_v = applied;

  // Conflicts: fields applied with a value different from the live one, owned by someone else.
  std::vector<std::pair<std::string, FieldPath>> conflicts;
  std::set<std::string> taken;
  for (const auto& m : managed) {
    if (!m.is_object()) continue;
    const auto& e = m.as_object();
    if (api::GetString(e, "manager") == manager && api::GetString(e, "operation") == "Apply") continue;
    for (const auto& p : EntryFields(&e)) {
      if (!mine_keys.count(Key(p)) || p.back() == ".") continue;
      const json::value* a = ValueAt(live_v, p);
      const json::value* b = ValueAt(applied_v, p);
      if (a && b && !(*a == *b)) {
        conflicts.emplace_back(api::GetString(e, "manager") + "\x1f" + api::GetString(e, "apiVersion"), p);
        taken.insert(Key(p));
      }
    }
  }
  if (!conflicts.empty() && !force) {
    Status::Details d;
    std::map<std::string, std::vector<std::string>> by_manager;
    for (const auto& [who, p] : conflicts) by_manager[who].push_back(PathString(p));
    std::string msg = "Apply failed with " + std::to_string(conflicts.size()) +
                      (conflicts.size() == 1 ? " conflict: " : " conflicts: ");
    bool first = true;
    for (const auto& [who, paths] : by_manager) {
      std::string mgr = who.substr(0, who.find('\x1f')), gv = who.substr(who.find('\x1f') + 1);
      std::string with = "conflict with \"" + mgr + "\"" + (gv.empty() ? "" : " using " + gv);
      if (!first) msg += "\n";
      first = false;
      if (conflicts.size() == 1) {
        msg += with + ": " + paths[0];
      } else {
        msg += (paths.size() == 1 ? with : "conflicts with \"" + mgr + "\"" + (gv.empty() ? "" : " using " + gv)) + ":";
        for (const auto& p : paths) msg += "\n- " + p;
      }
      for (const auto& p : paths) d.causes.push_back({"FieldManagerConflict", with, p});
    }
    return Status::Api(409, "Conflict", msg).set_details(std::move(d));
  }
  if (!taken.empty()) Disown(managed, taken, manager, "Apply");

  // Merge, then drop fields this manager applied before and no longer does (if nobody else owns them).
  const std::vector<FieldPath> before = EntryFields(FindEntry(managed, manager, "Apply"));
  json::value merged = MergeApplied(live_v, applied_v, nullptr, type, 0);
  std::set<std::string> others;
  for (const auto& m : managed) {
    if (!m.is_object()) continue;
    const auto& e = m.as_object();
    if (api::GetString(e, "manager") == manager && api::GetString(e, "operation") == "Apply") continue;
    for (const auto& p : EntryFields(&e)) others.insert(Key(p));
  }
  for (const auto& p : before) {
    if (mine_keys.count(Key(p)) || others.count(Key(p))) continue;
    RemoveAt(merged, p);
  }
  json::object out = std::move(merged.as_object());
  api::MutableObject(out, "metadata")["managedFields"] = managed;
  SetEntry(ManagedFields(out), manager, "Apply", api_version, mine);
  return out;
}

}  // namespace kite::apiserver
