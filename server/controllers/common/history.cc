#include "server/controllers/common/history.h"

#include <boost/json.hpp>

#include <algorithm>

#include "api/object.h"
#include "api/owner_references.h"
#include "client/client.h"

namespace kite::controllers {
namespace json = boost::json;
namespace {

const api::ResourceInfo& RevisionsResource() {
  static const api::ResourceInfo* r = api::FindResource("apps", "v1", "controllerrevisions");
  return *r;
}

// JSON with object keys sorted, so equal data hashes equally whatever order it was stored in.
void Canonical(const json::value& v, std::string* out) {
  if (v.is_object()) {
    std::vector<std::pair<std::string_view, const json::value*>> kv;
    for (const auto& [k, x] : v.as_object()) kv.emplace_back(k, &x);
    std::sort(kv.begin(), kv.end());
    *out += '{';
    for (const auto& [k, x] : kv) {
      *out += json::serialize(json::string(k));
      *out += ':';
      Canonical(*x, out);
      *out += ',';
    }
    *out += '}';
  } else if (v.is_array()) {
    *out += '[';
    for (const auto& x : v.as_array()) {
      Canonical(x, out);
      *out += ',';
    }
    *out += ']';
  } else {
    *out += json::serialize(v);
  }
}

bool SameData(const json::object& a, const json::object& b) {
  return RevisionTemplate(a) == RevisionTemplate(b);
}

}  // namespace

json::object RevisionData(const json::object& parent) {
  json::object tmpl = api::GetObject(parent, {"spec", "template"});
  tmpl["$patch"] = "replace";
  return json::object{{"spec", json::object{{"template", std::move(tmpl)}}}};
}

json::object RevisionTemplate(const json::object& revision) {
  json::object t = api::GetObject(revision, {"data", "spec", "template"});
  t.erase("$patch");
  return t;
}

int64_t RevisionNumber(const json::object& revision) { return api::GetInt(revision, "revision"); }

std::string RevisionHash(const json::object& data, int64_t collision_count) {
  std::string text;
  Canonical(data, &text);
  if (collision_count > 0) text += std::to_string(collision_count);
  uint32_t h = 2166136261u;  // FNV-1a, as upstream hashes revisions
  for (unsigned char c : text) {
    h ^= c;
    h *= 16777619u;
  }
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (char c : std::to_string(h)) out += kAlphabet[(c - '0') % (sizeof kAlphabet - 1)];
  return out;
}

std::vector<json::object> OwnedRevisions(const client::Informer& revisions, const json::object& parent) {
  const auto& m = api::Metadata(parent);
  std::vector<json::object> out;
  for (const auto& r : revisions.List(api::GetString(m, "namespace"))) {
    if (api::IsControlledBy(*r, api::GetString(m, "uid"))) out.push_back(*r);
  }
  std::sort(out.begin(), out.end(), [](const json::object& a, const json::object& b) {
    return RevisionNumber(a) < RevisionNumber(b);
  });
  return out;
}

kite::Result<json::object> EnsureRevision(const client::Client& client, const json::object& parent,
                                         std::vector<json::object>& revisions, int64_t* collision_count) {
  const auto& pm = api::Metadata(parent);
  const std::string ns = api::GetString(pm, "namespace");
  json::object data = RevisionData(parent);
  json::object probe{{"data", data}};
  int64_t max_revision = 0;
  json::object* equal = nullptr;
  for (auto& r : revisions) {
    max_revision = std::max(max_revision, RevisionNumber(r));
    if (SameData(r, probe)) equal = &r;  // the newest equal one (sorted by revision)
  }
  if (equal) {
    if (RevisionNumber(*equal) == max_revision) return *equal;
    json::object updated = *equal;
    updated["revision"] = max_revision + 1;
    auto r = client.Update(RevisionsResource(), ns, updated);
    if (!r.ok()) return r.error();
    *equal = r.value();
    std::sort(revisions.begin(), revisions.end(),
              [](const json::object& a, const json::object& b) { return RevisionNumber(a) < RevisionNumber(b); });
    return std::move(r.value());
  }
  const std::string hash = RevisionHash(data, *collision_count);
  std::string prefix = api::GetString(pm, "name");
  if (prefix.size() > 223) prefix.resize(223);  // name = prefix + "-" + hash within 253
  json::object labels = api::GetObject(parent, {"spec", "template", "metadata", "labels"});
  labels[kControllerRevisionHashLabel] = hash;
  json::object meta{{"name", prefix + "-" + hash},
                    {"namespace", ns},
                    {"labels", std::move(labels)},
                    {"ownerReferences", json::array{api::ControllerRef(parent)}}};
  if (const auto& ann = api::GetObject(pm, "annotations"); !ann.empty()) meta["annotations"] = ann;
  json::object rev{{"apiVersion", "apps/v1"},
                   {"kind", "ControllerRevision"},
                   {"metadata", std::move(meta)},
                   {"data", std::move(data)},
                   {"revision", max_revision + 1}};
  auto created = client.Create(RevisionsResource(), ns, rev);
  if (created.ok()) {
    revisions.push_back(created.value());
    return std::move(created.value());
  }
  if (!created.AlreadyExists()) return created.error();
  auto existing = client.Get(RevisionsResource(), ns, prefix + "-" + hash);
  if (!existing.ok()) return existing.error();
  if (SameData(existing.value(), rev) && api::IsControlledBy(existing.value(), api::GetString(pm, "uid"))) {
    revisions.push_back(existing.value());
    return std::move(existing.value());
  }
  ++*collision_count;
  return kite::Status::Api(409, "Conflict", "controller revision " + prefix + "-" + hash + " exists with other data");
}

void TruncateHistory(const client::Client& client, const std::vector<json::object>& revisions,
                     const std::set<std::string>& live, int64_t limit) {
  std::vector<const json::object*> old;
  for (const auto& r : revisions) {
    if (!live.count(api::Name(r))) old.push_back(&r);
  }
  if (static_cast<int64_t>(old.size()) <= limit) return;
  // `revisions` is sorted oldest first, so is `old`.
  for (size_t i = 0; i + static_cast<size_t>(std::max<int64_t>(limit, 0)) < old.size(); ++i) {
    const auto& m = api::Metadata(*old[i]);
    // Best effort: a revision not deleted now is still beyond the limit at the next sync.
    (void)client.Delete(RevisionsResource(), api::GetString(m, "namespace"), api::GetString(m, "name"));
  }
}

}  // namespace kite::controllers
