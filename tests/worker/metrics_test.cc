// The figures a worker keeps (worker/metrics.h) and what the broker makes of them
// (worker/status.h): histograms, the heartbeat's frame both ways, restarts counted by
// pid, the status body and the Prometheus text.
#include "worker/metrics.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "wire/json.h"
#include "wire/message.h"
#include "worker/status.h"

using namespace closeloop;

namespace {

Figures sample_figures(uint64_t pid) {
  Figures x;
  x.pid = pid;
  x.up_since = "2026-11-30T04:11:12.207Z";
  x.messages_in = 7;
  x.messages_out = 9;
  x.command("submit", "ok");
  x.command("submit", "ok");
  x.command("submit", "invalid");
  x.handoffs_sent["dispatch"] = 2;
  x.handoffs_applied["intake"] = 3;
  x.outbox["dispatch"] = {1, 1500};
  x.committed(2);
  x.fsynced(1'200'000);  // 1.2 ms
  x.disk_bytes = 4096;
  return x;
}

// The line of `series` in the text, or "".
std::string line_of(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return "";
  return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

}  // namespace

TEST_CASE("a histogram counts each value in the first bucket whose bound holds it", "[metrics]") {
  const uint64_t bounds[] = {1, 4, 16};
  Histogram h(bounds);
  for (uint64_t v : {0, 1, 2, 4, 5, 16, 17, 1000}) h.observe(v);
  CHECK(h.counts == std::vector<uint64_t>{2, 2, 2, 2});
  CHECK(h.count() == 8);
  CHECK(h.sum == 0 + 1 + 2 + 4 + 5 + 16 + 17 + 1000);
}

TEST_CASE("figures survive the heartbeat's frame", "[metrics]") {
  Figures x = sample_figures(42);
  auto back = decode_figures(encode_figures(x));
  REQUIRE(back.ok());
  CHECK(back->pid == 42);
  CHECK(back->up_since == x.up_since);
  CHECK(back->messages_in == 7);
  CHECK(back->messages_out == 9);
  CHECK(back->commands == x.commands);
  CHECK(back->handoffs_sent == x.handoffs_sent);
  CHECK(back->handoffs_applied == x.handoffs_applied);
  CHECK(back->outbox.at("dispatch").entries == 1);
  CHECK(back->outbox.at("dispatch").oldest_age_ms == 1500);
  CHECK(back->last_commit_size == 2);
  CHECK(back->last_fsync_ns == 1'200'000);
  CHECK(back->fsync_ns.bounds == x.fsync_ns.bounds);
  CHECK(back->fsync_ns.counts == x.fsync_ns.counts);
  CHECK(back->fsync_ns.sum == 1'200'000);
  CHECK(back->group_commit_size.counts == x.group_commit_size.counts);
  CHECK(back->disk_bytes == 4096);
  CHECK(back->storage_error.empty());
  x.storage_error = "the disk is full (No space left on device)";
  back = decode_figures(encode_figures(x));
  REQUIRE(back.ok());
  CHECK(back->storage_error == x.storage_error);
  CHECK(back->warning.empty());
  x.warning = "data_dir /srv/closeloop is mode 0755: other users can read it";
  back = decode_figures(encode_figures(x));
  REQUIRE(back.ok());
  CHECK(back->warning == x.warning);
}

TEST_CASE("a figures frame that is not one is refused, not half read", "[metrics][bad-input]") {
  CHECK_FALSE(decode_figures("").ok());
  CHECK_FALSE(decode_figures("\xc1").ok());
  CHECK_FALSE(decode_figures(wire::MapBuilder().add("messages_in", 3).finish()).ok());  // no pid
  CHECK_FALSE(decode_figures(wire::MapBuilder().add("pid", "x").finish()).ok());
  std::string bad_histogram = wire::MapBuilder()
                                  .add("pid", 1)
                                  .add_raw("fsync_ns", wire::MapBuilder()
                                                           .add("le", std::vector<uint64_t>{1, 2})
                                                           .add("counts", std::vector<uint64_t>{1})
                                                           .add("sum", 1)
                                                           .finish())
                                  .finish();
  CHECK_FALSE(decode_figures(bad_histogram).ok());
  auto only_pid = decode_figures(wire::MapBuilder().add("pid", 5).finish());  // an older worker's
  REQUIRE(only_pid.ok());
  CHECK(only_pid->pid == 5);
}

TEST_CASE("the board counts a worker's restarts by a new pid, not by a new registration",
          "[metrics][status]") {
  StatusBoard board;
  board.registered("handle");
  board.reported("handle", sample_figures(100));
  board.lost("handle");
  board.registered("handle");  // the same process, back after a broker restart or a blip
  board.reported("handle", sample_figures(100));
  CHECK(board.workers().at("handle").restarts == 0);
  board.lost("handle");
  board.registered("handle");
  board.reported("handle", sample_figures(101));  // a new process
  CHECK(board.workers().at("handle").restarts == 1);
  CHECK(board.workers().at("handle").up);
}

TEST_CASE("the status body has the fields the issue names", "[metrics][status]") {
  StatusBoard board;
  board.registered("intake");
  board.reported("intake", sample_figures(7));
  board.registered("handle");
  board.reported("handle", sample_figures(8));
  board.lost("handle");
  auto decoded = wire::decode(board.status_body().data(), board.status_body().size());
  REQUIRE(decoded.ok());
  wire::Json status = wire::to_json(decoded->get());
  REQUIRE(status["workers"].size() == 2);
  wire::Json handle = status["workers"][0], intake = status["workers"][1];
  CHECK(handle["name"] == "handle");
  CHECK(handle["up"] == false);
  CHECK(intake["up"] == true);
  for (const char* key : {"name", "pid", "up_since", "restarts", "messages_in", "messages_out",
                          "outbox", "last_commit", "disk_bytes", "storage_error", "warning", "up"})
    CHECK(intake.contains(key));
  CHECK(status["handshake_failures"] == wire::Json::array());
  CHECK(intake["outbox"] ==
        wire::Json::parse(R"([{"to":"dispatch","entries":1,"oldest_age_ms":1500}])"));
  CHECK(intake["last_commit"]["size"] == 2);
  CHECK(intake["last_commit"]["fsync_ms"].get<double>() == Approx(1.2));
}

TEST_CASE("the Prometheus text: HELP and TYPE per family, labels escaped, cumulative buckets",
          "[metrics][status]") {
  StatusBoard board;
  board.registered("intake");
  board.reported("intake", sample_figures(7));
  board.registered("odd\"na\\me");
  board.reported("odd\"na\\me", sample_figures(8));
  board.registered("handle");
  board.reported("handle", sample_figures(9));
  board.lost("handle");
  std::string text = board.prometheus_text();
  for (const std::string& family : metric_families()) {
    INFO(family);
    CHECK(text.find("# HELP " + family + " ") != std::string::npos);
    CHECK(text.find("# TYPE " + family + " ") != std::string::npos);
  }
  CHECK(line_of(text, R"(closeloop_commands_total{worker="intake",verb="submit",result="ok"})") !=
        "");
  CHECK(line_of(text, R"(closeloop_commands_total{worker="intake",verb="submit",result="ok"})")
            .ends_with(" 2"));
  CHECK(line_of(text, R"(closeloop_commands_total{worker="intake",verb="submit",result="invalid"})")
            .ends_with(" 1"));
  CHECK(line_of(text, R"(closeloop_outbox_oldest_seconds{worker="intake",to="dispatch"})")
            .ends_with(" 1.5"));
  CHECK(line_of(text, R"(closeloop_fsync_seconds_bucket{worker="intake",le="0.001"})")
            .ends_with(" 0"));
  CHECK(line_of(text, R"(closeloop_fsync_seconds_bucket{worker="intake",le="0.0025"})")
            .ends_with(" 1"));
  CHECK(line_of(text, R"(closeloop_fsync_seconds_bucket{worker="intake",le="+Inf"})")
            .ends_with(" 1"));
  CHECK(line_of(text, R"(closeloop_fsync_seconds_sum{worker="intake"})").ends_with(" 0.0012"));
  CHECK(line_of(text, R"(closeloop_fsync_seconds_count{worker="intake"})").ends_with(" 1"));
  CHECK(line_of(text, R"(closeloop_group_commit_size_bucket{worker="intake",le="2"})")
            .ends_with(" 1"));
  CHECK(line_of(text, R"(closeloop_worker_up{worker="odd\"na\\me"})").ends_with(" 1"));
  // A worker that is down: only that it is down, and its restarts.
  CHECK(line_of(text, R"(closeloop_worker_up{worker="handle"})").ends_with(" 0"));
  CHECK(line_of(text, R"(closeloop_restarts_total{worker="handle"})").ends_with(" 0"));
  CHECK(line_of(text, R"(closeloop_messages_in_total{worker="handle"})") == "");
}

TEST_CASE("the broker's own counters: handshake failures by domain and reason, in status and text",
          "[metrics][status]") {
  StatusBoard board;
  uint64_t before = board.version();
  for (int i = 0; i < 3; ++i) board.count_handshake_failure("clients", "unknown_key");
  board.count_handshake_failure("workers", "no_handshake");
  CHECK(board.version() > before);  // /metrics is rebuilt
  CHECK(board.broker().handshake_failures.at({"clients", "unknown_key"}) == 3);

  auto body = board.status_body();
  auto decoded = wire::decode(body.data(), body.size());
  REQUIRE(decoded.ok());
  CHECK(wire::to_json(decoded->get())["handshake_failures"] == wire::Json::parse(R"([
    {"domain": "clients", "reason": "unknown_key", "count": 3},
    {"domain": "workers", "reason": "no_handshake", "count": 1}])"));

  std::string text = board.prometheus_text();  // no worker yet: the broker's families still
  CHECK(text.find("# TYPE closeloop_handshake_failures_total counter\n") != std::string::npos);
  CHECK(
      line_of(text, R"(closeloop_handshake_failures_total{domain="clients",reason="unknown_key"})")
          .ends_with(" 3"));
  CHECK(
      line_of(text, R"(closeloop_handshake_failures_total{domain="workers",reason="no_handshake"})")
          .ends_with(" 1"));
  auto families = metric_families();
  CHECK(std::find(families.begin(), families.end(), "closeloop_handshake_failures_total") !=
        families.end());
}
