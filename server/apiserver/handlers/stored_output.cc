#include "server/apiserver/handlers/stored_output.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>

#include "base/clock.h"
#include "server/apiserver/printers/tables.h"
#include "server/apiserver/storage/registry.h"

namespace kite::apiserver {
namespace json = boost::json;

void PendingOutput::Add(std::string text) {
  if (text.empty()) return;
  size_ += text.size();
  const size_t n = text.size();
  pieces_.push_back(Piece{nullptr, std::move(text), {}, 0, n});
}

void PendingOutput::Add(std::shared_ptr<const std::string> shared, size_t begin, size_t end) {
  if (begin >= end) return;
  size_ += end - begin;
  pieces_.push_back(Piece{std::move(shared), {}, {}, begin, end});
}

void PendingOutput::AddLiteral(std::string_view text) {
  size_ += text.size();
  pieces_.push_back(Piece{nullptr, {}, text, 0, text.size()});
}

std::string PendingOutput::Take(size_t max) {
  std::string out;
  out.reserve(std::min(max, size_));
  while (!pieces_.empty() && out.size() < max) {
    Piece& p = pieces_.front();
    const std::string_view text = p.shared ? std::string_view(*p.shared) : p.literal.empty() ? p.owned : p.literal;
    const size_t n = std::min(max - out.size(), p.end - p.begin);
    out.append(text.substr(p.begin, n));
    p.begin += n;
    if (p.begin == p.end) pieces_.pop_front();
  }
  size_ -= out.size();
  return out;
}

void EventWriter::Line(const char* type, std::shared_ptr<const std::string> text, PendingOutput* out) {
  if (auto changed = transform.Apply(*text)) return Owned(type, std::move(*changed), out);
  if (!format.table_version.empty()) return out->Add(TableLine(type, *text));
  const size_t n = text->size();
  AddHead(type, out);
  out->Add(std::move(text), 0, n);
  AddTail(out);
}

void EventWriter::Line(const char* type, const datastore::Value& stored, const ShownObject& shown, PendingOutput* out) {
  if (transform.active()) {
    std::string text = shown.Text(*stored);
    auto changed = transform.Apply(text);
    return Owned(type, changed ? std::move(*changed) : std::move(text), out);
  }
  if (!format.table_version.empty()) return out->Add(TableLine(type, shown.Text(*stored)));
  AddHead(type, out);
  if (shown.splice) {
    out->Add(stored, 0, shown.splice->begin);
    out->Add(shown.splice->insert);
    out->Add(stored, shown.splice->end, stored->size());
  } else {
    out->Add(shown.reencoded);
  }
  AddTail(out);
}

void EventWriter::Owned(const char* type, std::string text, PendingOutput* out) {
  if (!format.table_version.empty()) return out->Add(TableLine(type, text));
  AddHead(type, out);
  out->Add(std::move(text));
  AddTail(out);
}

void EventWriter::AddHead(const char* type, PendingOutput* out) {
  out->AddLiteral(type[0] == 'A'   ? R"({"type":"ADDED","object":)"
                  : type[0] == 'M' ? R"({"type":"MODIFIED","object":)"
                                   : R"({"type":"DELETED","object":)");
}

void EventWriter::AddTail(PendingOutput* out) { out->AddLiteral("}\n"); }

std::string EventWriter::TableLine(const char* type, std::string_view object_json) {
  boost::system::error_code ec;
  json::value v = json::parse(object_json, ec);
  if (ec || !v.is_object()) return "";
  json::value table = ToTable(r, v.as_object(), format.include, format.table_version,
                              kite::Clock::Real()->Now(), sent_headers);
  sent_headers = true;
  return json::serialize(json::object{{"type", type}, {"object", std::move(table)}}) + "\n";
}

std::string ErrorLine(const Status& e) { return "{\"type\":\"ERROR\",\"object\":" + StatusJson(e) + "}\n"; }

Selection::Selection(const ListOptions& o, const api::ResourceInfo& r, const WatchTransform& transform)
    : o_(o), r_(r), transform_(transform), all_prefix_(StoragePrefix(r, "")) {
  for (const auto& f : o.fields.Fields()) key_fields_only_ &= f == "metadata.name" || f == "metadata.namespace";
}

bool Selection::Matches(std::string_view key, std::string_view text, const json::object* labels) const {
  if (!o_.Filters()) return true;
  if (!o_.labels.Empty()) {
    std::shared_ptr<const json::object> own;
    if (!labels) labels = (own = LabelsOfStored(text)).get();
    if (!o_.labels.Matches(*labels)) return false;
  }
  if (o_.fields.Empty()) return true;
  if (key_fields_only_) {
    std::string_view rest = key.substr(std::min(all_prefix_.size(), key.size()));
    std::string_view key_ns, key_name = rest;
    if (r_.namespaced) {
      auto slash = rest.find('/');
      key_ns = rest.substr(0, slash);
      key_name = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
    std::map<std::string, std::string> f{{"metadata.name", std::string(key_name)},
                                         {"metadata.namespace", std::string(key_ns)}};
    return o_.fields.Matches(f);
  }
  auto obj = transform_.Decode(text);
  return obj && MatchesListOptions(o_, r_, *obj);
}

bool Selection::Matches(const CachedEvent& e, bool before) const {
  if (before) return e.prev_value && Matches(e.key, *e.prev_value, e.prev_labels.get());
  return Matches(e.key, e.object_json, e.labels.get());
}

}  // namespace kite::apiserver
