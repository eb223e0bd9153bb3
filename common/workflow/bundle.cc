#include "workflow/bundle.h"

#include <map>
#include <vector>

#include "security/merkle.h"
#include "wire/codec.h"
#include "workflow/event.h"
#include "workflow/item.h"

namespace closeloop {

namespace {

Error not_a_bundle(const std::string& why) {
  return Error{errc::kInvalid, "not a closeloop bundle: " + why};
}

void fail_at(BundleCheck& check, const std::string& id, uint64_t seq, const std::string& problem) {
  if (!check.bad_item.empty()) return;  // the first one is reported
  check.bad_item = id;
  check.bad_seq = seq;
  check.problem = problem;
}

// A list of hex hashes, or nullopt if it is not one.
std::optional<std::vector<security::Hash>> hashes_of(const wire::Json& list) {
  if (!list.is_array()) return std::nullopt;
  std::vector<security::Hash> out;
  for (const wire::Json& hex : list) {
    auto hash = hex.is_string() ? security::hash_from_hex(hex.get<std::string>()) : std::nullopt;
    if (!hash) return std::nullopt;
    out.push_back(*hash);
  }
  return out;
}

// Each event's leaf, recomputed from the event, must lead up its proof to the root.
void check_inclusion(const std::string& id, const std::vector<const msgpack::object*>& trail,
                     const wire::Json& proofs, const security::Checkpoint& checkpoint,
                     BundleCheck& check) {
  std::map<uint64_t, const wire::Json*> by_seq;
  for (const wire::Json& p : proofs)
    if (p.is_object() && p.value("seq", wire::Json()).is_number_unsigned())
      by_seq[p["seq"].get<uint64_t>()] = &p;
  for (size_t i = 0; i < trail.size(); ++i) {
    uint64_t seq = i + 1;
    auto found = by_seq.find(seq);
    if (found == by_seq.end()) return fail_at(check, id, seq, "no inclusion proof for it");
    const wire::Json& proof = *found->second;
    auto path = hashes_of(proof.value("path", wire::Json()));
    wire::Json index = proof.value("index", wire::Json());
    auto leaf = event_hashed_bytes(*trail[i]);
    if (!path || !index.is_number_unsigned() || !leaf)
      return fail_at(check, id, seq, "its inclusion proof is malformed");
    if (!security::verify_inclusion(security::leaf_hash(*leaf), index.get<uint64_t>(),
                                    checkpoint.size, *path, checkpoint.root))
      return fail_at(check, id, seq,
                     "not in the checkpoint's tree: its inclusion proof does not lead to the "
                     "signed root (the event is not the one the ledger recorded)");
  }
}

// The item as the bundle shows it (whole JSON) against the fold of its trail.
void check_fold(const wire::Json& item, const std::vector<const msgpack::object*>& trail,
                const FoldContext& context, BundleCheck& check) {
  std::string id = item.value("id", std::string());
  auto shown = decode_item(wire::encode_json(item));
  if (!shown) return fail_at(check, id, 0, "the item is unreadable: " + shown.error().message);
  std::vector<Event> events;
  for (const msgpack::object* e : trail) {
    auto event = decode_event(*e);
    if (!event) return fail_at(check, id, events.size() + 1, event.error().message);
    events.push_back(std::move(*event));
  }
  auto folded = fold(events, context);
  if (!folded) return fail_at(check, id, 0, folded.error().message);
  if (auto difference = first_difference(*folded, *shown))
    fail_at(check, id, 0, "the item is not what its trail makes of it: " + describe(*difference));
}

// Checks one item's trail: the hash chain, that it ends at the item's head, (given
// `proofs`) that every event is in the checkpoint's tree, and (given `fold`) that the
// item is what the trail makes of it.
void check_trail(const wire::Json& item, const wire::Json& events, const wire::Json* proofs,
                 const FoldContext* fold, BundleCheck& check) {
  std::string id = item.value("id", std::string());
  std::vector<msgpack::object_handle> handles;
  handles.reserve(events.size());  // trail points into them: no reallocation
  std::vector<const msgpack::object*> trail;
  for (const wire::Json& e : events) {
    std::vector<uint8_t> bytes = wire::Json::to_msgpack(e);
    auto decoded = wire::decode(bytes.data(), bytes.size());
    if (!decoded) break;  // unreadable: fails at its position
    handles.push_back(std::move(*decoded));
    trail.push_back(&handles.back().get());
  }
  check.events += events.size();
  uint64_t bad = first_bad_seq(trail);
  if (bad == 0 && trail.size() < events.size()) bad = trail.size() + 1;
  if (bad == 0 && trail.empty()) bad = 1;
  if (bad != 0) return fail_at(check, id, bad, "hash, link or numbering wrong");
  uint64_t head_seq = item.value("seq", uint64_t{0});
  if (head_seq != trail.size() ||
      events.back().value("hash", std::string()) != item.value("head", std::string())) {
    bad = std::min<uint64_t>(head_seq, trail.size()) + (head_seq > trail.size() ? 1 : 0);
    return fail_at(check, id, bad == 0 ? 1 : bad,
                   "the trail ends at seq " + std::to_string(trail.size()) +
                       " but the item's head is seq " + std::to_string(head_seq));
  }
  if (proofs) check_inclusion(id, trail, *proofs, *check.checkpoint, check);
  if (fold && check.bad_item.empty()) check_fold(item, trail, *fold, check);
}

// The bundle's checkpoint, and the proofs object that goes with it (version 2 on).
Result<const wire::Json*> read_checkpoint(const wire::Json& bundle, BundleCheck& check) {
  auto checkpoint = security::checkpoint_from_json(bundle.value("checkpoint", wire::Json()),
                                                   /*check_signature=*/false);
  if (!checkpoint) return not_a_bundle(checkpoint.error().message);
  check.checkpoint = std::move(*checkpoint);
  if (!bundle.contains("proofs") || !bundle["proofs"].is_object())
    return not_a_bundle("a bundle of version 2 on needs a proofs object");
  if (!security::verify_signature(*check.checkpoint))
    check.bad_checkpoint =
        "its signature does not verify (the ledger never signed this size, "
        "root and time)";
  return &bundle["proofs"];
}

// The proof that the bundle's tree extends `old`'s, as the bundle carries it.
Result<std::vector<security::Hash>> consistency_from(const wire::Json& bundle,
                                                     const security::Checkpoint& old) {
  wire::Json consistency = bundle.value("consistency", wire::Json::object());
  if (!consistency.is_object() || consistency.value("size", wire::Json()) != old.size)
    return Error{errc::kInvalid,
                 "the bundle carries no consistency proof from a checkpoint of size " +
                     std::to_string(old.size) +
                     ": make it with closeloop bundle ID... --out FILE --checkpoint OLD"};
  auto proof = hashes_of(consistency.value("proof", wire::Json()));
  if (!proof) return not_a_bundle("its consistency proof is not a list of hashes");
  return *proof;
}

void check_extends(const security::Checkpoint& old, const std::vector<security::Hash>& proof,
                   BundleCheck& check) {
  const security::Checkpoint& now = *check.checkpoint;
  if (now.key != old.key) {
    check.bad_checkpoint =
        "it is signed by another key (" + now.key + ") than the checkpoint kept (" + old.key + ")";
  } else if (!security::verify_consistency(old.size, old.root, now.size, now.root, proof)) {
    check.bad_checkpoint = "its tree (size " + std::to_string(now.size) +
                           ") does not extend the one of the checkpoint kept (size " +
                           std::to_string(old.size) + ", " + old.at +
                           "): history was rewritten, or they are different ledgers";
  }
}

}  // namespace

std::string bundle_timezone(const wire::Json& bundle) {
  if (!bundle.is_object() || bundle.value("version", wire::Json()) != kBundleVersion) return "";
  wire::Json zone = bundle.value("timezone", wire::Json());
  return zone.is_string() ? zone.get<std::string>() : "";
}

Result<BundleCheck> check_bundle(const wire::Json& bundle, const security::Checkpoint* old,
                                 const FoldContext* fold) {
  if (!bundle.is_object() || bundle.value("format", std::string()) != kBundleFormat)
    return not_a_bundle("no \"format\": \"closeloop-bundle\"");
  wire::Json version = bundle.value("version", wire::Json());
  if (version != 1 && version != 2 && version != kBundleVersion)
    return not_a_bundle("version " + wire::dump(version) + " is not 1, 2 or 3");
  if (version == kBundleVersion && bundle_timezone(bundle).empty())
    return not_a_bundle("a version 3 bundle names the office's timezone");
  if (version == kBundleVersion && !fold)
    return Error{errc::kInvalid, "a version 3 bundle is checked with the office's time zone"};
  if (version != kBundleVersion) fold = nullptr;  // an older bundle cannot say its days
  const wire::Json* items = bundle.contains("items") ? &bundle["items"] : nullptr;
  const wire::Json* trails = bundle.contains("trails") ? &bundle["trails"] : nullptr;
  if (!items || !items->is_array() || !trails || !trails->is_object())
    return not_a_bundle("it needs an items array and a trails object");
  BundleCheck check;
  const wire::Json* proofs = nullptr;
  check.folded = fold != nullptr;
  if (version != 1) {
    auto read = read_checkpoint(bundle, check);
    if (!read) return read.error();
    proofs = *read;
  }
  if (old && !check.checkpoint)
    return Error{errc::kInvalid, "a version 1 bundle has no checkpoint to compare with one kept"};
  std::vector<security::Hash> extension;
  if (old) {
    auto proof = consistency_from(bundle, *old);
    if (!proof) return proof.error();
    extension = std::move(*proof);
  }
  for (const wire::Json& item : *items) {
    std::string id = item.is_object() ? item.value("id", std::string()) : "";
    if (id.empty()) return not_a_bundle("an item without an id");
    if (!trails->contains(id) || !(*trails)[id].is_array())
      return not_a_bundle("no trail for item " + id);
    if (proofs && (!proofs->contains(id) || !(*proofs)[id].is_array()))
      return not_a_bundle("no proofs for item " + id);
    ++check.items;
    check_trail(item, (*trails)[id],
                check.bad_checkpoint.empty() && proofs ? &(*proofs)[id] : nullptr, fold, check);
  }
  if (old && !check.failed()) check_extends(*old, extension, check);
  return check;
}

}  // namespace closeloop
