// Strategic merge patch on boost::json objects, as kube-apiserver applies
// `application/strategic-merge-patch+json` bodies (kubectl apply (client-side), edit, patch,
// set image, rollout restart|pause|resume, cordon).
//
// Semantics follow k8s.io/apimachinery/pkg/util/strategicpatch (the apply half), driven by the
// built-in schema (api/schema.h) instead of Go struct tags:
//  - Objects merge member by member; a null member deletes the key (a null for a key the
//    original lacks is ignored); members that are not both objects or both arrays are replaced.
//  - An object field with patch strategy "replace" (PodDisruptionBudgetSpec.selector) is replaced
//    whole. Map fields (labels, nodeSelector, ...) merge like objects.
//  - Lists replace whole unless their strategy is "merge": then lists of objects merge item by
//    item on the merge key (containers by name, ports by containerPort, ...), new items are
//    appended, and lists of scalars (finalizers) become the union. The merged order is: patch
//    items in patch order, interleaved with the items only the original has, in their original
//    order (upstream's normalizeElementOrder).
//  - Directives:
//      "$patch": "replace"   in an object: the object becomes the rest of the patch object;
//                            as a list item: the list becomes the other patch items.
//      "$patch": "delete"    in an object: the object becomes {} (or is dropped when the
//                            original lacks it); as a list item: every item of the original with
//                            that merge key value is removed.
//      "$patch": "merge"     rejected, as upstream does ("unknown patch type" in an object,
//                            "merging lists cannot yet be specified in the patch" in a list).
//      "$setElementOrder/<list>": [...]   the final order of the list's items (objects carrying
//                            only the merge key, or the scalars themselves); items not named keep
//                            their relative order around them.
//      "$deleteFromPrimitiveList/<list>": [...]   scalars to remove from the list (any strategy).
//      "$retainKeys": ["a", ...]   drops every member of the original not listed (deployment
//                            strategy RollingUpdate→Recreate, volume source changes); every
//                            non-null member of the patch object must be listed.
//    Directives never reach the result: values the patch introduces (keys the original lacks,
//    replaced lists and objects, appended list items) are themselves merged into an empty value,
//    which processes their directives and drops their null members.
//  - `type` nullptr (custom resources), unknown fields and free-form fields (RawExtension, JSON)
//    have no strategies: objects merge recursively, lists are replaced, null deletes (RFC 7386),
//    and the directives above still apply.
// Errors are kInvalidArgument with upstream's texts (its Go %v rendering of maps and lists), e.g.
//   map: map[image:x] does not contain declared merge key: name
//   unknown patch type: frob in map: map[$patch:frob]
//   invalid patch format of setElementOrder list / of retainKeys / of primitive list
//   expected a []interface {}, but received a string
//   lists of lists are not supported
//   list element types are not identical: [[a] [1]]
//   The order in patch list:\n...\n doesn't match $setElementOrder list:\n...\n
// kube-apiserver answers the "invalid patch format ..." errors 400 BadRequest and "lists of lists
// are not supported" 422; its other patch errors reach clients as server errors, which kite need
// not copy (all of these are the patch's fault). Nesting beyond kMaxJsonDepth is rejected.
// Deliberate differences from upstream are listed in api/README.md.
#pragma once

#include <boost/json/object.hpp>

#include <string_view>

#include "api/schema.h"
#include "base/status.h"

namespace kite::api {

// Applies a strategic merge patch to `original` (an object of schema type `type`, or nullptr for
// schema-less objects) and returns the patched object; the inputs are not modified.
Result<boost::json::object> ApplyStrategicMergePatch(const boost::json::object& original,
                                                     const boost::json::object& patch,
                                                     const schema::Type* type);

// Parses both texts, then applies. An original that is not a JSON object is "invalid JSON
// document"; a patch that is not a JSON object fails as kube-apiserver's decoding does
// ("json: cannot unmarshal array into Go value of type map[string]interface {}"), except that
// `null` is an empty patch; unparsable text gives the parser's message.
Result<boost::json::object> ApplyStrategicMergePatch(std::string_view original_json,
                                                     std::string_view patch_json,
                                                     const schema::Type* type);

}  // namespace kite::api
