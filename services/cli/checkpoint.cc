// closeloop checkpoint: the ledger's latest signed checkpoint (--json: the file an auditor
// keeps), and with --consistency OLD the proof, checked here, that the ledger's tree
// extends the one OLD signed. bundle takes its checkpoint through the same calls.
#include <fstream>
#include <sstream>

#include "cli.h"
#include "render.h"
#include "terminal.h"

namespace closeloop::cli {

namespace {

std::vector<std::string> hex_list(const std::vector<security::Hash>& hashes) {
  std::vector<std::string> out;
  for (const security::Hash& h : hashes) out.push_back(security::to_hex(h));
  return out;
}

// The reply's checkpoint and proof, or why they are not what the ledger should send.
Result<Tree> tree_of(const wire::Reply& reply) {
  wire::Json body = wire::to_json(reply.body);
  auto checkpoint = security::checkpoint_from_json(body.value("checkpoint", wire::Json()));
  if (!checkpoint) return checkpoint.error();
  Tree tree{std::move(*checkpoint), {}};
  for (const wire::Json& hex : body.value("proof", wire::Json::array())) {
    auto hash = hex.is_string() ? security::hash_from_hex(hex.get<std::string>()) : std::nullopt;
    if (!hash)
      return Error::of(errc::kInternal, N_("the consistency proof holds something not a hash"));
    tree.proof.push_back(*hash);
  }
  return tree;
}

std::string describe(const security::Checkpoint& c) {
  return say(N_("size {size} ({at})"), {{"size", std::to_string(c.size)}, {"at", c.at}});
}

}  // namespace

Result<security::Checkpoint> read_checkpoint_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Error::of(errc::kInvalid, N_("cannot read {path}: {reason}"),
                     {{"path", path}, {"reason", std::strerror(errno)}});
  std::ostringstream text;
  text << in.rdbuf();
  wire::Json json = wire::Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded())
    return Error::of(errc::kInvalid, N_("{path} is not JSON (closeloop checkpoint --json writes one)"),
                     {{"path", path}});
  auto checkpoint = security::checkpoint_from_json(json, /*check_signature=*/false);
  if (!checkpoint)
    return Error::of(errc::kInvalid, N_("{path}: {reason}"),
                     {{"path", path}, {"reason", checkpoint.error().message}});
  return checkpoint;
}

int fetch_tree(Client& client, const Target& target, const Invocation& in, bool fresh,
               const security::Checkpoint* old, Tree& out) {
  wire::MapBuilder body;
  if (fresh) body.add("fresh", true);
  if (old) body.add("old_size", old->size);
  auto reply = client.call("checkpoint", in.actor, body.finish());
  if (old && reply && !reply->ok && reply->error.code == errc::kInvalid)  // a smaller tree
    return fail(kExitBadTrail, say(N_("NOT consistent with the checkpoint of {checkpoint}: {reason}"),
                                   {{"checkpoint", describe(*old)}, {"reason", said(reply->error)}}));
  Answer a = answer_of(reply, target);
  if (!a.reply) return a.exit_code;
  auto tree = tree_of(*a.reply);
  if (!tree)
    return fail(kExitBadTrail,
                say(N_("the ledger's checkpoint FAILS: {reason}"), {{"reason", said(tree.error())}}));
  out = std::move(*tree);
  return kExitOk;
}

std::string inconsistency(const security::Checkpoint& old, const Tree& tree) {
  const security::Checkpoint& now = tree.checkpoint;
  if (now.key != old.key)
    return say(N_("the ledger's checkpoint is signed by another key ({key}) than the one of "
                  "{old} ({old_key})"),
               {{"key", now.key}, {"old", describe(old)}, {"old_key", old.key}});
  if (!security::verify_consistency(old.size, old.root, now.size, now.root, tree.proof))
    return say(N_("the ledger's tree of {now} does not extend the one of {old}: history was "
                  "rewritten, or they are different ledgers"),
               {{"now", describe(now)}, {"old", describe(old)}});
  return "";
}

int run_checkpoint(Client& client, const Target& target, const Invocation& in,
                   const wire::Json& fields) {
  std::optional<security::Checkpoint> old;
  if (fields.contains("consistency")) {
    std::string path = fields["consistency"].get<std::string>();
    auto read = read_checkpoint_file(path);
    if (!read) return fail(kExitUsage, said(read.error()));
    if (!security::verify_signature(*read))
      return fail(kExitBadTrail, say(N_("{path}: its signature does not verify: the ledger never "
                                        "signed this size, root and time"),
                                     {{"path", path}}));
    old = std::move(*read);
  }
  Tree tree;
  if (int code =
          fetch_tree(client, target, in, fields.contains("fresh"), old ? &*old : nullptr, tree);
      code != kExitOk)
    return code;
  wire::Json now = security::to_json(tree.checkpoint);
  if (!old) {
    in.json ? print_json(now) : print_checkpoint(now);
    return kExitOk;
  }
  if (std::string why = inconsistency(*old, tree); !why.empty())
    return fail(kExitBadTrail, say(N_("NOT consistent: {reason}"), {{"reason", why}}));
  if (in.json) {
    print_json({{"consistent", true},
                {"old", security::to_json(*old)},
                {"checkpoint", now},
                {"proof", hex_list(tree.proof)}});
  } else {
    print_line(say(N_("consistent: size {size} extends size {old_size} (checkpoints of {at} and "
                      "{old_at}, key {key})"),
                   {{"size", std::to_string(tree.checkpoint.size)},
                    {"old_size", std::to_string(old->size)},
                    {"at", tree.checkpoint.at},
                    {"old_at", old->at},
                    {"key", old->key}}));
  }
  return kExitOk;
}

}  // namespace closeloop::cli
