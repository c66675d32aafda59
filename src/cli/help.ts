/**
 * Help texts for `lonelypss` and its commands.
 *
 * @module
 */

import { VERSION } from "./version.ts";

/** `lonelypss --help`. */
export const MAIN_HELP = `lonelypss ${VERSION} — best-effort pub/sub over HTTP

Usage: lonelypss <command> [options]

Commands:
  setup          write secrets and a configuration file into the current directory
  serve          run a broadcaster
  notify         publish one message (a file, a text or stdin)
  subscribe      receive messages, printing them or running a command per message
  subscriptions  list subscriptions with their delivery statistics, or prune them
  stats          counts, top failing urls, top topics, latest prunes

Run "lonelypss <command> --help" for a command's options.

Options:
  -h, --help      show this help
  -V, --version   print the version
  --debug         print stack traces on errors`;

/** `lonelypss setup --help`. */
export const SETUP_HELP = `Usage: lonelypss setup [options]

Writes into the current directory (refusing to overwrite any of them):
  lonelypss.json            configuration read by "lonelypss serve"
  broadcaster-secrets.json  secrets, mode 0600
  subscriber-secrets.json   the same secrets, for subscribers (the Python client reads it)

Options:
  --db sqlite|rqlite|postgres             storage (default sqlite)
  --rqlite-url <url>[,<url>...]           rqlite node urls (default http://127.0.0.1:4001)
  --rqlite-user <user>                    rqlite basic auth user (kept in broadcaster-secrets.json)
  --rqlite-password <password>            its password (kept in broadcaster-secrets.json)
  --postgres-url <url>                    postgres://user:password@host:port/db[?sslmode=…]
                                          (kept in broadcaster-secrets.json)
  --to-broadcasters-auth hmac|token|none  auth of messages to the broadcaster (default hmac)
  --to-broadcasters-secret <secret>       its secret (default: 64 random bytes, base64url)
  --to-subscribers-auth hmac|token|none   auth of messages to subscribers (default hmac)
  --to-subscribers-secret <secret>        its secret (default: 64 random bytes, base64url)
  --host <addr>                           interface serve binds (default 0.0.0.0, or
                                          127.0.0.1 with --to-broadcasters-auth none)
  --port <n>                              port serve listens on (default 3003)
  -h, --help                              show this help

An hmac secret must be 64 bytes in unpadded base64url (86 characters).
Write a secret that starts with "-" as --to-broadcasters-secret=<secret>.`;

/** `lonelypss serve --help`. */
export const SERVE_HELP = `Usage: lonelypss serve [options]

Runs a broadcaster. Reads --config, or ./lonelypss.json when it exists; without
one it runs on the defaults below with no authorization (none/none).
Flags beat environment variables, which beat the configuration file.

Options:
  --config <path>      configuration file            LONELYPSS_CONFIG      default ./lonelypss.json
  --host <addr>        interface to bind             LONELYPSS_HOST        default 127.0.0.1, or
                                                     0.0.0.0 when requests to the broadcaster need
                                                     authorization (the secrets file says so)
  --port <n>           port, 0 = any free one        LONELYPSS_PORT        default 3003
  --db <path>          SQLite file, or :memory:      LONELYPSS_DB          default subscriptions.db
  --rqlite-url <urls>  rqlite node urls, comma-separated, instead of --db
                                                     LONELYPSS_RQLITE_URL
  --rqlite-consistency none|weak|linearizable|strong LONELYPSS_RQLITE_CONSISTENCY default weak
  PostgreSQL instead of --db: the configuration file's "postgres" section, with the
                       connection string in the secrets file or LONELYPSS_POSTGRES_URL
  --spool-dir <dir>    where large notify bodies go  LONELYPSS_SPOOL_DIR   default the OS temp dir
  --path-prefix <p>    mount under a path, e.g. /ps  LONELYPSS_PATH_PREFIX default none
  --log-level <level>  debug|info|warn|error|silent  LONELYPSS_LOG_LEVEL   default info
  --grace <seconds>    shutdown wait for deliveries  LONELYPSS_GRACE       default 10
  --compression on|off zstd on websockets            LONELYPSS_COMPRESSION default on
  --libzstd <path>     libzstd to load (Deno, Bun)   LONELYPSS_LIBZSTD     default the system's
  --deno-front on|off  Deno: accept connections in   LONELYPSS_DENO_FRONT  default on
                       our front (connection cap, header and keep-alive timeouts,
                       survives running out of descriptors); off: Deno.serve
                       directly (20-70% more small requests/s), for use behind
                       a proxy that caps and times out connections
  --relay-url <url>    how other broadcasters reach  LONELYPSS_RELAY_URL   default learnt from the
                       this one (websocket relay)                          first websocket request
  --debug              print stack traces on errors
  -h, --help           show this help

Without authorization anyone who can reach the broadcaster can subscribe any URL
and publish: bound elsewhere than this machine, serve prints a warning. Start
with "lonelypss setup" (hmac both ways).

GET <prefix>/healthz, /readyz and /metrics (Prometheus) are served beside the
protocol; LONELYPSS_METRICS_TOKEN makes /metrics require "Bearer <token>".

Ctrl+C or SIGTERM stops accepting requests, lets deliveries in flight finish
(up to the grace period) and closes the database cleanly.`;

const STORE_OPTIONS = `Store (as "serve" would open it):
  --config FILE               configuration file (default ./lonelypss.json; env LONELYPSS_CONFIG)
  --db FILE                   SQLite file (env LONELYPSS_DB)
  --rqlite-url URL[,URL...]   an rqlite cluster instead (env LONELYPSS_RQLITE_URL)
  PostgreSQL: the configuration file's "postgres" section with LONELYPSS_POSTGRES_URL
  or the secrets file's connection string, as for serve
  --json                      print JSON instead of a table
Safe beside a live server on the same database.`;

/** `lonelypss subscriptions --help`. */
export const SUBSCRIPTIONS_HELP = `Usage:
  lonelypss subscriptions list [--url U] [--topic T] [--glob P] [--search TEXT] [--failing]
                               [--limit N] [--offset N] [--json]
  lonelypss subscriptions prune (--url U | --failing-for DUR | --idle-for DUR) [--dry-run] [--json]

list: subscriptions with their delivery statistics, failing first (longest first).
  --url U          exactly this subscriber url
  --topic T        exact subscriptions to exactly this topic
  --glob P         glob subscriptions with exactly this pattern
  --search TEXT    url, topic or glob contains TEXT
  --failing        only subscriptions whose last delivery failed
  --limit N        rows to show (default 100); --offset N skips rows

prune: removes subscriptions and records each url in the prune audit.
  --url U            every subscription of U
  --failing-for DUR  urls whose deliveries have all failed for DUR (e.g. 5d)
  --idle-for DUR     urls with no success, subscribe or renewal for DUR
  --dry-run          show what would go, remove nothing
DUR: a number with s, m, h or d (seconds without a unit).

${STORE_OPTIONS}`;

/** `lonelypss stats --help`. */
export const STATS_HELP = `Usage: lonelypss stats [--top N] [--json]

Counts of subscriptions (exact, glob), urls and failing urls; the N (default 10)
longest failing urls, the topics with most subscriptions, and the latest prunes.

${STORE_OPTIONS}`;
