// Running one verb: its request, its reply, its output.
#include "cli.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "base/text.h"
#include "render.h"
#include "security/rights.h"
#include "terminal.h"
#include "workflow/command.h"
#include "calendar/clock.h"
#include "workflow/event.h"
#include "workflow/fold.h"
#include "workflow/item.h"

namespace closeloop::cli {

int fail(int code, const std::string& message) {
  print_line("closeloop: " + message, stderr);
  return code;
}

std::string said(const Error& error) {
  i18n::Voice voice;
  voice.field = [](std::string_view field) { return "--" + std::string(field); };
  voice.arg = [](std::string_view name, std::string_view value) -> std::optional<std::string> {
    if (name != "at" || value.empty()) return std::nullopt;  // a stored time: the wall clock's
    return local_time_text(value);
  };
  return i18n::say(i18n::language(), error, voice);
}

std::string unreadable_reply(const Error& error) {
  return say(N_("unreadable reply: {reason}"), {{"reason", said(error)}});
}

int fail(int code, const Error& error) { return fail(code, error.code + ": " + said(error)); }

const Value* Invocation::value(std::string_view field) const {
  auto it = values.find(verb + "/" + std::string(field));
  return it == values.end() || !it->second.given() ? nullptr : &it->second;
}

Result<wire::Json> fields_of(const Verb& verb, const Invocation& in) {
  wire::Json fields = wire::Json::object();
  for (const Field& field : verb.fields) {
    const Value* v = in.value(field.name);
    if (!v) continue;
    std::string name(field.name);
    switch (field.type) {
      case FieldType::kFlag:
        if (v->flag) fields[name] = true;
        break;
      case FieldType::kNumber:
        fields[name] = v->number;
        break;
      case FieldType::kCodes:
        fields[name] = v->list;
        break;
      case FieldType::kMilestones: {
        wire::Json list = wire::Json::array();
        for (const std::string& m : v->list) {
          size_t eq = m.find('=');
          if (eq == std::string::npos)
            return Error::of(errc::kInvalid, N_("{field} takes DATE=TEXT, not '{value}'"),
                             {{"value", m}}, name);
          list.push_back({{"date", m.substr(0, eq)}, {"text", m.substr(eq + 1)}});
        }
        fields[name] = std::move(list);
        break;
      }
      default:
        fields[name] = v->text;
    }
  }
  return fields;
}

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// The config file to read: named by the user, else found next to the build tree, in
// the working directory or where the Debian package puts it; empty if there is none.
std::string find_config(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (std::string named = env("CLOSELOOP_CONFIG"); !named.empty()) return named;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) candidates.push_back(exe.parent_path() / "../../config/closeloop.toml");
  candidates.push_back("config/closeloop.toml");
  candidates.push_back("/etc/closeloop/closeloop.toml");
  for (const fs::path& p : candidates)
    if (::access(p.c_str(), R_OK) == 0) return p.lexically_normal().string();
  return "";
}

// Who acts when nothing proves it (security.mode = "off").
std::string unauthenticated_actor() {
  for (const char* name : {"CLOSELOOP_ACTOR", "USER"})
    if (std::string value = env(name); !value.empty()) return value;
  return "cli";
}

// The value of `--name VALUE` or `--name=VALUE` on the command line, before CLI11 reads
// it (the help it prints is in the language chosen by it).
std::string option_value(int argc, char** argv, std::string_view name) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == name && i + 1 < argc) return argv[i + 1];
    if (arg.starts_with(name) && arg.size() > name.size() && arg[name.size()] == '=')
      return std::string(arg.substr(name.size() + 1));
  }
  return "";
}

}  // namespace

i18n::Language choose_language(int argc, char** argv) {
  for (const std::string& named : {option_value(argc, argv, "--lang"), env(i18n::kLanguageEnv)})
    if (auto language = i18n::parse_language(named)) return *language;
  if (std::string path = find_config(option_value(argc, argv, "--config")); !path.empty())
    if (auto config = load_config(path))  // a broken one is reported when it is read for the verb
      if (auto language = i18n::parse_language(config->language)) return *language;
  return i18n::kDefaultLanguage;
}

Result<Target> resolve_target(const Invocation& in) {
  Target t{in.endpoint.empty() ? env("CLOSELOOP_ENDPOINT") : in.endpoint, in.timeout_ms};
  if (std::string path = find_config(in.config); !path.empty()) {
    auto loaded = load_config(path);
    if (!loaded) return loaded.error();
    t.config = std::move(*loaded);
    t.max_message_bytes = t.config.max_message_bytes;
  }
  if (t.endpoint.empty()) t.endpoint = t.config.endpoint;
  use_timezone(t.config.timezone);  // times are printed as the office's wall clock shows them
  std::map<std::string, std::string, std::less<>> names;  // tables show "县交通运输局 jtj"
  for (const Department& d : t.config.departments) names.emplace(d.code, d.name);
  set_department_names(std::move(names));
  if (t.timeout_ms <= 0) t.timeout_ms = t.config.timing.request_timeout_ms;
  return t;
}

Answer answer_of(Result<wire::Reply>& reply, const Target& target) {
  if (!reply && reply.error().code == errc::kTimeout) {
    // A broker that kept answering "unavailable" or "in_transit": the client gave up on
    // that refusal (net/client.h), said here in the reader's language.
    const Error& error = reply.error();
    MessageArgs args{{"endpoint", target.endpoint}, {"ms", std::to_string(target.timeout_ms)}};
    constexpr std::string_view kGaveUp = "gave up within the timeout: ";
    if (!error.message.starts_with(kGaveUp))
      return {std::nullopt, fail(kExitNoAnswer, say(N_("no answer from {endpoint} within {ms} ms"), args))};
    args.emplace_back("reason", error.msgid.empty() ? error.message.substr(kGaveUp.size()) : said(error));
    return {std::nullopt,
            fail(kExitNoAnswer, say(N_("no answer from {endpoint} within {ms} ms (gave up within "
                                       "the timeout: {reason})"),
                                    args))};
  }
  if (!reply && reply.error().code == errc::kUnauthenticated)
    return {std::nullopt, fail(kExitRefused, reply.error())};
  if (!reply) return {std::nullopt, fail(kExitInternal, unreadable_reply(reply.error()))};
  if (!reply->ok) return {std::nullopt, fail(kExitRefused, reply->error)};
  return {std::move(*reply), kExitOk};
}

namespace {

// The request body of a command or query: `item` (when it takes one), then its fields.
std::string body_of(const Verb& verb, const Invocation& in, const wire::Json& fields) {
  wire::MapBuilder m;
  if (verb.takes_id) m.add("item", in.id);
  for (const auto& [name, value] : fields.items()) {
    const Field* field = verb.field(name);
    if (field && !field->client_only) m.add_raw(name, wire::encode_json(value));
  }
  return m.finish();
}

// Whether the item is what the first item.seq events of its trail make of it
// (workflow/fold.h); the reason if not.
std::string fold_mismatch(const std::string& id, const std::vector<const msgpack::object*>& trail,
                          const Item& item, const FoldContext& context) {
  std::vector<Event> events;
  for (uint64_t i = 0; i < item.seq; ++i) {
    auto e = decode_event(*trail[i]);
    if (!e)
      return say(N_("event {seq} is unreadable: {reason}"),
                 {{"seq", std::to_string(i + 1)}, {"reason", e.error().message}});
    events.push_back(std::move(*e));
  }
  auto folded = fold(events, context);
  if (!folded) return said(folded.error());
  auto difference = first_difference(*folded, item);
  return difference ? say(N_("item {item} is not what its trail makes of it: {reason}"),
                          {{"item", id}, {"reason", describe(*difference)}})
                    : "";
}

// Checks the trail's hash chain, then that it reaches the head the item carries: a
// trail cut short verifies as a chain but ends before the item's seq. The item is read
// before the trail, so a command acknowledged in between only makes the trail longer;
// the item's head must then be one of its events, and the item what the events up to
// it make of it.
int verify_trail(const std::string& id, const msgpack::object& events, const Item& item,
                 const FoldContext& context, bool json) {
  std::vector<const msgpack::object*> trail;
  for (uint32_t i = 0; i < events.via.array.size; ++i) trail.push_back(&events.via.array.ptr[i]);
  uint64_t bad = first_bad_seq(trail);
  if (bad == 0 && trail.empty()) bad = 1;
  if (bad != 0) {
    print_line(say(N_("trail of {item} FAILS verification at seq {seq}"),
                   {{"item", id}, {"seq", std::to_string(bad)}}),
               stderr);
    return kExitBadTrail;
  }
  if (item.seq == 0 || item.seq > trail.size()) {
    print_line(say(N_("trail of {item} FAILS verification: the trail ends at seq {last} but the "
                      "item is at seq {seq}"),
                   {{"item", id},
                    {"last", std::to_string(trail.size())},
                    {"seq", std::to_string(item.seq)}}),
               stderr);
    return kExitBadTrail;
  }
  auto at = decode_event(*trail[item.seq - 1]);
  if (!at || at->hash != item.head) {
    std::string seq = std::to_string(item.seq);
    print_line(say(at ? N_("trail of {item} FAILS verification at seq {seq}: the item's head is "
                           "{head} but the trail's event {seq} has hash {hash}")
                      : N_("trail of {item} FAILS verification at seq {seq}: the item's head is "
                           "{head} but the trail's event {seq} is unreadable"),
                   {{"item", id}, {"seq", seq}, {"head", item.head}, {"hash", at ? at->hash : ""}}),
               stderr);
    return kExitBadTrail;
  }
  if (std::string why = fold_mismatch(id, trail, item, context); !why.empty()) {
    print_line(say(N_("trail of {item} FAILS verification: {reason}"), {{"item", id}, {"reason", why}}),
               stderr);
    return kExitBadTrail;
  }
  auto last = decode_event(*trail.back());
  print_line(say(N_("trail of {item} verifies: {events} events, head {head}; the item is what they "
                    "make of it"),
                 {{"item", id},
                  {"events", std::to_string(trail.size())},
                  {"head", last ? last->hash : ""}}),
             json ? stderr : stdout);
  return kExitOk;
}

class Session {
 public:
  Session(Client& client, const Target& target, const Invocation& in)
      : client_(client), target_(target), in_(in) {}

  Answer call(std::string_view type, const std::string& body) {
    auto reply = client_.call(type, in_.actor, body);
    return answer_of(reply, target_);
  }

  // A command or show: the item.
  int item(const std::string& type, const std::string& body) {
    Answer a = call(type, body);
    if (!a.reply) return a.exit_code;
    wire::Fields f(a.reply->body, "reply body");
    const msgpack::object& item = f.map("item");
    if (!f.ok()) return fail(kExitInternal, unreadable_reply(f.error()));
    wire::Json json = item_json(item);
    if (const msgpack::object* view = f.opt_map("view")) {  // show: what its trail adds
      wire::Json added = wire::to_json(*view);  // named: items() does not keep it alive
      for (auto& [key, value] : added.items()) json[key] = std::move(value);
    }
    if (in_.json) {
      print_json(json);
    } else {
      print_item(json);
    }
    return kExitOk;
  }

  int trail(const std::string& body, bool verify) {
    std::optional<Item> head;
    if (verify) {  // the item first: see verify_trail
      Answer shown = call("show", body);
      if (!shown.reply) return shown.exit_code;
      wire::Fields f(shown.reply->body, "reply body");
      auto item = decode_item(f.map("item"));
      if (!item) return fail(kExitInternal, unreadable_reply(item.error()));
      head = std::move(*item);
    }
    auto reply = client_.call_pages("trail", in_.actor, body, "events", "seq");
    Answer a = answer_of(reply, target_);
    if (!a.reply) return a.exit_code;
    wire::Fields f(a.reply->body, "reply body");
    const msgpack::object& events = f.array("events");
    wire::Json json = wire::Json::array();
    for (uint32_t i = 0; i < events.via.array.size; ++i) json.push_back(event_json(events.via.array.ptr[i]));
    if (in_.json) {
      print_json(json);
    } else {
      print_trail(json);
    }
    std::fflush(stdout);
    if (!head) return kExitOk;
    Clock office(target_.config.timezone);  // the day of an event that does not say it
    FoldContext context{[&office](const std::string& at) { return office.local_date(at).str(); }};
    return verify_trail(in_.id, events, *head, context, in_.json);
  }

  // Lists, printed page by page as they come (memory stays flat however long they
  // are). Only `list` pages; the others (one department's inbox, the late) come whole.
  int items(const std::string& type, const std::string& body, uint64_t limit) {
    uint64_t printed = 0;
    ListPrinter printer(in_.json, type);
    auto page = [&](const msgpack::object& array) {
      for (uint32_t i = 0; i < array.via.array.size && printed < limit; ++i, ++printed)
        printer.add(item_json(array.via.array.ptr[i]));
      printer.flush();
      return type == "list" && printed < limit;
    };
    auto last = client_.for_each_page(type, in_.actor, body, "items", "id", page);
    Answer a = answer_of(last, target_);
    if (!a.reply) return a.exit_code;
    printer.finish();
    wire::Fields f(a.reply->body, "reply");
    if (type != "list" && f.opt_bool("more").value_or(false))
      fail(kExitOk, say(N_("more items than one reply holds; narrow the question")));
    return kExitOk;
  }

  int scoreboard(const std::string& body) {
    Answer a = call("scoreboard", body);
    if (!a.reply) return a.exit_code;
    wire::Json json = wire::to_json(a.reply->body);
    if (in_.json) {
      print_json(json);
    } else {
      print_scoreboard(json);
    }
    return kExitOk;
  }

  // The read audit, printed page by page as it comes (like a list).
  int reads(const std::string& body, uint64_t limit) {
    uint64_t printed = 0;
    ListPrinter printer(in_.json, "reads");
    auto page = [&](const msgpack::object& array) {
      for (uint32_t i = 0; i < array.via.array.size && printed < limit; ++i, ++printed)
        printer.add(wire::to_json(array.via.array.ptr[i]));
      printer.flush();
      return printed < limit;
    };
    auto last = client_.for_each_page("reads", in_.actor, body, "reads", "seq", page);
    Answer a = answer_of(last, target_);
    if (!a.reply) return a.exit_code;
    printer.finish();
    return kExitOk;
  }

  // user.*: the account changed, or every account (or every change to them).
  int accounts(const std::string& type, const std::string& body) {
    Answer a = call(type, body);
    if (!a.reply) return a.exit_code;
    wire::Json json = wire::to_json(a.reply->body);
    bool history = json.contains("history");
    if (in_.json && json.contains("account")) {
      print_json(json["account"]);
      return kExitOk;
    }
    ListPrinter printer(in_.json, history ? "account changes" : "accounts");
    if (json.contains("account")) printer.add(json["account"]);
    for (const auto& entry : json.value(history ? "history" : "accounts", wire::Json::array()))
      printer.add(entry);
    printer.finish();
    return kExitOk;
  }

  // incidents: the list; incidents ack: the one closed; incidents replay: per worker, how
  // many were applied and how many are still held. A worker that did not answer is named
  // on stderr, and the exit code is 4 (no answer): the answer is incomplete.
  int incidents(const std::string& type, const std::string& body) {
    Answer a = call(type, body);
    if (!a.reply) return a.exit_code;
    wire::Json json = wire::to_json(a.reply->body);
    if (type == "incidents.ack") {
      in_.json ? print_json(json)
               : print_line(say(N_("incident {incident} {state}"),
                                {{"incident", json.value("id", "")}, {"state", json.value("state", "")}}));
      return kExitOk;
    }
    if (type == "incidents") {
      ListPrinter printer(in_.json, "incidents");
      for (const auto& incident : json.value("incidents", wire::Json::array()))
        printer.add(incident);
      printer.finish();
    } else if (in_.json) {
      print_json(json);
    } else {
      for (const auto& w : json.value("workers", wire::Json::array()))
        print_line(say(N_("{worker}: replayed {replayed}, still held {held}"),
                       {{"worker", w.value("worker", "")},
                        {"replayed", wire::dump(w["replayed"])},
                        {"held", wire::dump(w["held"])}}));
    }
    auto unreachable = json.value("unreachable", wire::Json::array());
    for (const auto& u : unreachable)
      fail(kExitNoAnswer, say(N_("{worker} did not answer: {reason}"),
                              {{"worker", u.value("worker", "")}, {"reason", u.value("error", "")}}));
    return unreachable.empty() ? kExitOk : kExitNoAnswer;
  }

  // An item's inclusion proofs: the JSON array, or a line per event.
  int proofs(const std::string& body) {
    auto reply = client_.call_pages("proofs", in_.actor, body, "proofs", "seq");
    Answer a = answer_of(reply, target_);
    if (!a.reply) return a.exit_code;
    wire::Json json = wire::to_json(a.reply->body).value("proofs", wire::Json::array());
    if (in_.json) {
      print_json(json);
      return kExitOk;
    }
    for (const wire::Json& p : json)
      print_line(say(N_("seq {seq}  leaf {leaf}  path {hashes} hashes"),
                     {{"seq", wire::dump(p["seq"])},
                      {"leaf", wire::dump(p["index"])},
                      {"hashes", std::to_string(p["path"].size())}}));
    return kExitOk;
  }

  // A question the broker answers itself, printed as JSON or by `print`.
  int ask_broker(const char* verb, void (*print)(const wire::Json&)) {
    Answer a = call(verb, wire::empty_map());
    if (!a.reply) return a.exit_code;
    wire::Json json = wire::to_json(a.reply->body);
    in_.json ? print_json(json) : print(json);
    return kExitOk;
  }

 private:
  Client& client_;
  const Target& target_;
  const Invocation& in_;
};

}  // namespace

int run(Invocation& in) {
  if (in.verb == "verbs") {
    std::printf("%s", (in.pot ? catalog_template() : verbs_markdown()).c_str());
    return kExitOk;
  }
  if (in.verb == "rights") {
    std::printf("%s", security::rights_markdown().c_str());
    return kExitOk;
  }
  const Verb& verb = *find_verb(in.verb);
  auto fields = fields_of(verb, in);
  if (!fields) return fail(kExitUsage, said(fields.error()));
  if (in.verb == "keygen") return run_keygen(in, *fields);
  if (in.verb == "restore") return run_restore(in, *fields);
  auto target = resolve_target(in);
  if (!target) return fail(kExitUsage, said(target.error()));
  if (in.verb == "due") return run_due(*target, in, *fields);
  if (in.verb == "import" && fields->contains("template")) return run_import_template(*target);
  if (in.verb == "import" && in.file.empty())
    return fail(kExitUsage, say(N_("import: give the CSV file (or --template)")));

  auto keys = find_keys(target->config, in.key, in.server_key);
  if (!keys) return fail(kExitUsage, said(keys.error()));
  if (!*keys && in.actor.empty()) in.actor = unauthenticated_actor();
  std::optional<Client> client;
  try {
    client.emplace(target->endpoint, target->timeout_ms, target->max_message_bytes, *keys);
  } catch (const zmq::error_t& e) {
    return fail(kExitUsage, say(N_("bad endpoint '{endpoint}': {reason}"),
                                {{"endpoint", target->endpoint}, {"reason", e.what()}}));
  }
  if (in.verb == "import") return run_import(*client, *target, in, *fields);
  if (in.verb == "export") return run_export(*client, *target, in, *fields);
  if (in.verb == "bundle") return run_bundle(*client, *target, in, *fields);
  if (in.verb == "checkpoint") return run_checkpoint(*client, *target, in, *fields);
  if (in.verb == "backup") return run_backup(*client, *target, in, *fields);
  if (in.verb == "rebuild") return run_rebuild(*client, *target, in, *fields);

  Session session(*client, *target, in);
  std::string body = body_of(verb, in, *fields);
  if (verb.kind == VerbKind::kCommand || in.verb == "show") return session.item(in.verb, body);
  if (in.verb == "trail") return session.trail(body, fields->contains("verify"));
  if (in.verb == "scoreboard") return session.scoreboard(body);
  if (in.verb == "ping") return session.ask_broker("ping", print_ping);
  if (in.verb == "status") return session.ask_broker("status", print_status);
  if (in.verb == "whoami") return session.ask_broker("whoami", print_whoami);
  if (in.verb == "proofs") return session.proofs(body);
  if (verb.kind == VerbKind::kAccount) return session.accounts(in.verb, body);
  if (in.verb.starts_with("incidents")) return session.incidents(in.verb, body);
  uint64_t limit = fields->contains("limit") ? (*fields)["limit"].get<uint64_t>() : UINT64_MAX;
  if (in.verb == "reads") return session.reads(body, limit);
  return session.items(in.verb, body, limit);
}

}  // namespace closeloop::cli
