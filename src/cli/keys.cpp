// `shoggoth keys`: API keys of the serving platform (docs/api.md, "Access").
// The key is printed once, at creation; the database keeps only its SHA-256.
//
//   shoggoth keys create --db keys.sqlite --tier public --name alice --rate-limit 60
//   shoggoth keys list --db keys.sqlite
//   shoggoth keys revoke --db keys.sqlite 3f9a2c1d
// --config platform.toml may stand for --db (its server.keys_db).
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/error.h"
#include "serve/api_keys.h"
#include "serve/config.h"

namespace {

struct KeysArgs {
  std::string db, config, tier, name, id;
  int64_t rate_limit = 0;
  bool json = false;
};

std::string db_path(const KeysArgs& a) {
  SHOG_CHECK(a.db.empty() != a.config.empty(), shog::ErrorKind::invalid_argument, "--db",
             "give the key database as --db FILE or --config platform.toml (one of them)");
  return a.db.empty() ? shog::serve::PlatformConfig::load(a.config).server.keys_db : a.db;
}

std::string date(int64_t t) {
  if (t == 0) return "-";
  char buf[32];
  std::time_t tt = std::time_t(t);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", std::gmtime(&tt));
  return buf;
}

void add_db_flags(CLI::App* c, KeysArgs& a) {
  c->add_option("--db", a.db, "Key database (SQLite; created if missing)");
  c->add_option("--config,-c", a.config, "Platform config whose server.keys_db to use");
}

void setup(CLI::App& sub) {
  auto a = std::make_shared<KeysArgs>();
  sub.require_subcommand(1);

  auto* create = sub.add_subcommand("create", "Create a key and print it (once)");
  add_db_flags(create, *a);
  create->add_option("--tier", a->tier, "Access tier, as named in deployments' tiers (e.g. public)")->required();
  create->add_option("--name", a->name, "Who or what the key is for")->required();
  create->add_option("--rate-limit", a->rate_limit, "Requests per minute (0: unlimited)")->capture_default_str();
  create->callback([a] {
    shog::serve::ApiKeyStore store(db_path(*a));
    auto c = store.create(a->name, a->tier, a->rate_limit);
    std::printf("%s\n", c.key.c_str());
    std::fprintf(stderr, "keys: created %s (tier %s, %s); the key is shown only now\n", c.info.id.c_str(),
                 c.info.tier.c_str(),
                 a->rate_limit ? fmt::format("{} requests/minute", a->rate_limit).c_str() : "no rate limit");
  });

  auto* list = sub.add_subcommand("list", "List keys (never their secrets)");
  add_db_flags(list, *a);
  list->add_flag("--json", a->json, "One JSON object per key");
  list->callback([a] {
    shog::serve::ApiKeyStore store(db_path(*a));
    auto keys = store.list();
    if (a->json) {
      for (auto& k : keys)
        std::printf("%s\n", nlohmann::json({{"id", k.id}, {"name", k.name}, {"tier", k.tier},
                                            {"rate_limit", k.rate_limit}, {"created_at", k.created_at},
                                            {"revoked", k.revoked_at != 0}})
                                .dump()
                                .c_str());
      return;
    }
    std::printf("%-10s %-12s %-20s %-10s %-17s %s\n", "ID", "TIER", "NAME", "RATE/MIN", "CREATED (UTC)", "REVOKED");
    for (auto& k : keys)
      std::printf("%-10s %-12s %-20s %-10s %-17s %s\n", k.id.c_str(), k.tier.c_str(), k.name.c_str(),
                  k.rate_limit ? std::to_string(k.rate_limit).c_str() : "-", date(k.created_at).c_str(),
                  date(k.revoked_at).c_str());
  });

  auto* revoke = sub.add_subcommand("revoke", "Revoke a key by its id (effective at once, also for a running server)");
  add_db_flags(revoke, *a);
  revoke->add_option("id", a->id, "The key's id (from keys list)")->required();
  revoke->callback([a] {
    shog::serve::ApiKeyStore store(db_path(*a));
    if (store.revoke(a->id))
      std::fprintf(stderr, "keys: revoked %s\n", a->id.c_str());
    else
      std::fprintf(stderr, "keys: %s was already revoked\n", a->id.c_str());
  });
}

shog::cli::Registration reg{"keys", "Create, list and revoke API keys of the server", setup};

}  // namespace
