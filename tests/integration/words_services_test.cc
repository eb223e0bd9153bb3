// Words for people made outside the verb's rule (docs/architecture.md, "Words for people"):
// closeloopd --check-config, the workers' and the broker's refusals, and what the client
// says when the service does not answer, in Chinese by default and in English when asked.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "harness.h"

using namespace closeloop;
using namespace closeloop::test;

namespace {

// Runs closeloopd --check-config on `file` with the environment `prefix`.
CliRun check_config(const Cluster& cluster, const std::string& file, const std::string& prefix) {
  return run_cli(cluster.dir(), {"--check-config", file}, prefix, "closeloopd");
}

}  // namespace

TEST_CASE("closeloopd --check-config speaks Chinese by default and English when asked",
          "[words][config]") {
  Cluster cluster;
  std::string bad = cluster.dir() + "/bad.toml";
  std::ofstream(bad) << "shutdown_grace_ms = -1\n" << read_file(cluster.config_path());
  // CLOSELOOP_LANG unset (the harness's en taken back): Chinese, the key and line kept.
  CliRun zh = check_config(cluster, bad, "CLOSELOOP_LANG= ");
  INFO("zh: " << zh.err);
  CHECK(zh.code == 78);
  CHECK(zh.err.find("closeloopd: " + bad + "：shutdown_grace_ms：应在 0 至 600000 之间，实为 -1（第 1 行）") !=
        std::string::npos);
  CliRun en = check_config(cluster, bad, "CLOSELOOP_LANG=en ");
  INFO("en: " << en.err);
  CHECK(en.code == 78);
  CHECK(en.err.find("closeloopd: " + bad +
                    ": shutdown_grace_ms: must be between 0 and 600000, got -1 (line 1)") !=
        std::string::npos);
  // An unknown key names its line in either language.
  std::ofstream(bad) << read_file(cluster.config_path()) << "\n[timing]\nheartbeat = 5\n";
  CliRun key = check_config(cluster, bad, "CLOSELOOP_LANG= ");
  CHECK(key.code == 78);
  CHECK(key.err.find("未知配置项“timing.heartbeat”（第 ") != std::string::npos);
  // A good file: the summary and each path's line in the config's language (zh).
  CliRun good = check_config(cluster, cluster.config_path(), "CLOSELOOP_LANG= ");
  INFO("good: " << good.out << good.err);
  CHECK(good.code == 0);
  CHECK(good.out.starts_with("正常：" + cluster.config_path() + "：单位 6 个"));
  CHECK(good.out.find("data_dir " + cluster.dir() + "/data：尚未建立（首次启动时建立）") !=
        std::string::npos);
  // The config's language when the environment says nothing: en in the file, en spoken.
  std::ofstream(bad) << "language = \"en\"\n" << read_file(cluster.config_path());
  CliRun configured = check_config(cluster, bad, "CLOSELOOP_LANG= ");
  CHECK(configured.code == 0);
  CHECK(configured.out.starts_with("ok: " + bad + ": 6 departments"));
}

TEST_CASE("the CLI says in Chinese that a worker is down and it gave up waiting",
          "[words][cli][timeout]") {
  Running r;
  REQUIRE(r.cluster.stop("intake") == 0);
  std::vector<std::string> submit{"--endpoint", r.cluster.endpoint(), "--timeout", "400",
                                  "submit",     "--title",            "路灯不亮",  "--body",
                                  "西街路灯三处不亮", "--category", "transport"};
  CliRun zh = run_cli(r.cluster.dir(), submit, "CLOSELOOP_LANG= ");
  INFO("zh: " << zh.err);
  CHECK(zh.code == 4);
  CHECK(zh.err.find("closeloop: " + r.cluster.endpoint() +
                    " 在 400 毫秒内未答复（超时前放弃重试：没有正在运行的 intake 进程）") !=
        std::string::npos);
  CliRun en = run_cli(r.cluster.dir(), submit);
  INFO("en: " << en.err);
  CHECK(en.code == 4);
  CHECK(en.err.find("closeloop: no answer from " + r.cluster.endpoint() +
                    " within 400 ms (gave up within the timeout: no intake worker is running)") !=
        std::string::npos);
  // A worker's refusal made with a msgid: the ledger's, for an unknown department.
  CliRun inbox = run_cli(r.cluster.dir(), {"--endpoint", r.cluster.endpoint(), "inbox",
                                           "--department", "nosuch"},
                         "CLOSELOOP_LANG= ");
  INFO("inbox: " << inbox.err);
  CHECK(inbox.code == 3);
  CHECK(inbox.err.find("closeloop: invalid: 没有单位“nosuch”") != std::string::npos);
}
