// How the CLI shows replies: MessagePack turned into JSON generically, and the
// human-readable forms of an item, a trail, a list and a ping.
#pragma once

#include <msgpack.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace closeloop::cli {

// map → object (non-string keys become their JSON text), array → array, str → string,
// int → number, bool, nil → null, float → number, bin and ext → lower-case hex string.
nlohmann::json to_json(const msgpack::object& o);

// One line of JSON, UTF-8 written as is; invalid UTF-8 is replaced, never thrown.
std::string dump(const nlohmann::json& j);

// Human-readable forms, written to stdout.
void print_item(const nlohmann::json& item);
void print_trail(const nlohmann::json& events);  // one line per event
void print_list(const nlohmann::json& items);    // one line per item
void print_ping(const nlohmann::json& body);     // one line per live service

}  // namespace closeloop::cli
